// Package cluster runs real Kubernetes control planes on the local machine
// for integration tests, end-to-end tests and demos, from the binaries that
// hack/controlplane/build.sh (`make controlplane`) puts in bin/ (see BinDir).
// Nothing is downloaded and no container runtime is needed.
//
// Two kinds are offered:
//
//   - Envtest (StartEnvtest, NewEnvtestForTest): etcd and kube-apiserver only,
//     through controller-runtime's envtest. Objects are stored and validated
//     but no controller acts on them. For tests of a reconciler against the
//     API.
//   - Cluster (Start, NewForTest, Shared): etcd, kube-apiserver,
//     kube-controller-manager, kube-scheduler and kwok. kwok simulates nodes
//     and the containers of pods, so Deployments roll out, pods are scheduled,
//     get IPs and become Ready, Services get EndpointSlices and Jobs complete,
//     all through the real controllers. Pods can be told to misbehave with
//     BehaviourLabel. For end-to-end tests and demos.
//
// Both listen on free ports of 127.0.0.1 only and keep their data in a
// temporary directory, so tests can run side by side. A component's output
// goes to a log file (Cluster.LogPath), whose end is shown when a start fails
// or a test using NewForTest or Shared fails.
//
// Environment variables:
//
//   - BLUEGREEN_BIN_DIR: where the binaries are (default: bin/ of the module).
//   - BLUEGREEN_SKIP_CLUSTER=1: the test helpers skip tests that need a
//     control plane. Otherwise such tests fail when the binaries are missing.
//   - BLUEGREEN_KEEP_LOGS=DIR: on failure, component logs are also copied to a
//     subdirectory of DIR.
package cluster
