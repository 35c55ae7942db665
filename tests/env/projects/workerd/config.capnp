# workerd's configuration for worker.mjs (bundled as bundle.mjs); the test
# gives the socket its address (--socket-addr http=127.0.0.1:PORT).
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [(name = "main", worker = .worker)],
  sockets = [(name = "http", http = (), service = "main")],
);

const worker :Workerd.Worker = (
  modules = [
    (name = "worker", esModule = embed "bundle.mjs"),
    (name = "weave_usage_bg.wasm", wasm = embed "node_modules/weave-usage/weave_usage_bg.wasm"),
  ],
  compatibilityDate = "2025-01-01",
);
