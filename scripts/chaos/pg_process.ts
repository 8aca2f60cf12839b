// A throwaway PostgreSQL 15 cluster owned by its own process, for the
// database-restart chaos test: cluster.restart() blocks (pg_ctl stop, then
// start), so it runs here and the test process keeps serving requests and
// observing the outage meanwhile.
//
// Protocol (stdout lines): "ready <url>" once the cluster accepts connections.
// Stdin: "restart" → cluster.restart(), then "restarted <ms>"; "stop" (or stdin
// closing, e.g. the test died) → cluster.stop() (the data directory is
// deleted) and exit.
import { startCluster, type Cluster } from "../pg_cluster.ts";

let cluster: Cluster | null = null;
let done = false;

function stop(code = 0): void {
  if (done) return;
  done = true;
  try {
    cluster?.stop();
  } finally {
    process.exit(code);
  }
}

process.on("SIGTERM", () => stop(0));
process.on("SIGINT", () => stop(130));
process.on("uncaughtException", (e) => {
  process.stderr.write(`pg_process: ${e.stack ?? e}\n`);
  stop(1);
});

cluster = await startCluster({ extraConf: { max_connections: "200" } });
process.stdout.write(`ready ${cluster.url()}\n`);

let buffered = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk: string) => {
  buffered += chunk;
  let nl: number;
  while ((nl = buffered.indexOf("\n")) >= 0) {
    const cmd = buffered.slice(0, nl).trim();
    buffered = buffered.slice(nl + 1);
    if (cmd === "restart") {
      const t0 = Date.now();
      cluster!.restart();
      process.stdout.write(`restarted ${Date.now() - t0}\n`);
    } else if (cmd === "stop") {
      stop(0);
    }
  }
});
process.stdin.on("end", () => stop(0));
