// Structured logging through an injected logger; JSON lines by default.
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

type Level = "debug" | "info" | "warn" | "error";
const order: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export function jsonLogger(minLevel: Level = "info", write: (line: string) => void = (l) => console.log(l)): Logger {
  const log = (level: Level) => (msg: string, fields?: LogFields) => {
    if (order[level] < order[minLevel]) return;
    write(JSON.stringify({ level, time: new Date().toISOString(), msg, ...fields }));
  };
  return { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") };
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
