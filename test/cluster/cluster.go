package cluster

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// Component names a process of a Cluster. Its output goes to
// <Cluster.Dir>/logs/<Component>.log.
type Component string

// The components of a Cluster, in start order.
const (
	Etcd              Component = "etcd"
	APIServer         Component = "kube-apiserver"
	ControllerManager Component = "kube-controller-manager"
	Scheduler         Component = "kube-scheduler"
	Kwok              Component = "kwok"
)

// Addresses used inside a Cluster. Both ranges hold tens of thousands of
// addresses, enough for benchmarks with many Services and pods.
const (
	// ServiceCIDR is the range Service cluster IPs are allocated from.
	ServiceCIDR = "10.96.0.0/16"
	// PodCIDR is the range kwok assigns pod IPs from (shared by all nodes).
	PodCIDR = "10.0.0.0/16"

	kubernetesServiceIP = "10.96.0.1" // first address of ServiceCIDR
)

// Node labels and annotations of the nodes a Cluster creates.
const (
	// NodeTypeLabel is a label every node of a Cluster carries, with value
	// NodeTypeKwok.
	NodeTypeLabel = "type"
	// NodeTypeKwok is the value of NodeTypeLabel on the nodes of a Cluster.
	NodeTypeKwok = "kwok"
	// KwokNodeAnnotation marks the nodes kwok manages (value "fake").
	KwokNodeAnnotation = "kwok.x-k8s.io/node"
)

// Options configures Start. The zero value is a usable one-node cluster.
type Options struct {
	// Nodes is the number of fake nodes to create; 0 means 1. Each takes up to
	// 1000 pods.
	Nodes int
	// CRDDirectoryPaths are directories or files with CustomResourceDefinitions
	// to install, e.g. <ModuleRoot>/config/crd/bases. A missing path is an
	// error.
	CRDDirectoryPaths []string
	// Dir holds the data, certificates, kubeconfig and logs. If empty, a fresh
	// temporary directory is used and removed by Close. A Dir that is given
	// must be empty or not exist yet; Close leaves it in place.
	Dir string
	// StartTimeout bounds Start; 0 means 2 minutes.
	StartTimeout time.Duration
	// ExtraArgs are appended to a component's command line; a flag given
	// here overrides the same flag set by Start.
	ExtraArgs map[Component][]string
}

// Cluster is a local Kubernetes control plane whose nodes and pods are
// simulated by kwok: etcd, kube-apiserver, kube-controller-manager,
// kube-scheduler and kwok run as child processes on free ports of 127.0.0.1.
// Workloads are scheduled, get IPs, become Ready and back Services through
// the real controllers; no container ever runs. See BehaviourLabel for
// simulated failures.
type Cluster struct {
	// Config talks to the kube-apiserver as an administrator (group
	// system:masters), with client-side rate limits raised for tests.
	Config *rest.Config
	// KubeconfigPath is a kubeconfig file for the same user, usable with
	// kubectl --kubeconfig.
	KubeconfigPath string
	// Dir holds the cluster's files; logs are in Dir/logs.
	Dir string
	// Nodes are the names of the fake nodes.
	Nodes []string

	procs   []*process // in start order
	keepDir bool

	closeOnce sync.Once
	closeErr  error
}

// Start starts a Cluster and returns once it can run pods: all nodes are
// Ready and untainted, the default ServiceAccount exists and the CRDs are
// established. On failure it stops what it started and returns an error that
// names the component at fault, with the end of its log. Call Close when
// done.
func Start(ctx context.Context, opts Options) (_ *Cluster, err error) {
	if opts.Nodes < 0 {
		return nil, fmt.Errorf("cluster options: Nodes must not be negative, got %d", opts.Nodes)
	}
	if opts.Nodes == 0 {
		opts.Nodes = 1
	}
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = 2 * time.Minute
	}
	bins, err := binaries(string(Etcd), string(APIServer), string(ControllerManager), string(Scheduler), string(Kwok))
	if err != nil {
		return nil, err
	}

	c := &Cluster{Dir: opts.Dir, keepDir: opts.Dir != ""}
	if c.Dir == "" {
		if c.Dir, err = os.MkdirTemp("", "bluegreen-cluster-"); err != nil {
			return nil, err
		}
	} else if entries, err := os.ReadDir(c.Dir); err == nil && len(entries) > 0 {
		return nil, fmt.Errorf("cluster options: Dir %s is not empty; give an empty or new directory", c.Dir)
	}
	defer func() {
		if err != nil {
			if dst, kerr := c.keepLogs(); kerr != nil {
				err = fmt.Errorf("%w\n(copying logs: %v)", err, kerr)
			} else if dst != "" {
				err = fmt.Errorf("%w\n(component logs copied to %s)", err, dst)
			}
			_ = c.Close()
		}
	}()
	ctx, cancel := context.WithTimeout(ctx, opts.StartTimeout)
	defer cancel()

	s, err := c.prepare(opts)
	if err != nil {
		return nil, fmt.Errorf("preparing cluster files in %s: %w", c.Dir, err)
	}
	client, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		return nil, err
	}

	if err := c.start(Etcd, bins, s.etcdArgs, opts, nil); err != nil {
		return nil, err
	}
	if err := c.waitFor(ctx, Etcd, "etcd to report healthy", func(ctx context.Context) (bool, string) {
		return httpOK(ctx, fmt.Sprintf("http://127.0.0.1:%d/health", s.etcdPort), `"health":"true"`)
	}); err != nil {
		return nil, err
	}

	if err := c.start(APIServer, bins, s.apiserverArgs, opts, nil); err != nil {
		return nil, err
	}
	if err := c.waitFor(ctx, APIServer, "kube-apiserver /readyz", func(ctx context.Context) (bool, string) {
		body, err := client.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		if err != nil {
			return false, fmt.Sprintf("%v %s", err, body)
		}
		return true, ""
	}); err != nil {
		return nil, err
	}

	if err := c.start(ControllerManager, bins, s.controllerManagerArgs, opts, nil); err != nil {
		return nil, err
	}
	if err := c.start(Scheduler, bins, s.schedulerArgs, opts, nil); err != nil {
		return nil, err
	}
	if err := c.start(Kwok, bins, s.kwokArgs, opts, []string{"KWOK_WORKDIR=" + filepath.Join(c.Dir, "kwok")}); err != nil {
		return nil, err
	}

	if err := c.createNodes(ctx, client, opts.Nodes); err != nil {
		return nil, c.exitedOr("creating nodes", err)
	}
	if len(opts.CRDDirectoryPaths) > 0 {
		maxTime := time.Until(deadline(ctx))
		if _, err := envtest.InstallCRDs(c.Config, envtest.CRDInstallOptions{
			Paths: opts.CRDDirectoryPaths, ErrorIfPathMissing: true, MaxTime: maxTime,
		}); err != nil {
			return nil, c.exitedOr("installing CRDs", fmt.Errorf("installing CRDs from %v: %w", opts.CRDDirectoryPaths, err))
		}
	}

	for _, w := range []struct {
		component Component
		what      string
		check     func(context.Context) (bool, string)
	}{
		{ControllerManager, "kube-controller-manager /healthz", func(ctx context.Context) (bool, string) {
			return httpOK(ctx, fmt.Sprintf("https://127.0.0.1:%d/healthz", s.controllerManagerPort), "ok")
		}},
		{Scheduler, "kube-scheduler /healthz", func(ctx context.Context) (bool, string) {
			return httpOK(ctx, fmt.Sprintf("https://127.0.0.1:%d/healthz", s.schedulerPort), "ok")
		}},
		{Kwok, "kwok to mark the nodes Ready", func(ctx context.Context) (bool, string) {
			return c.nodesMatch(ctx, client, func(n *corev1.Node) string {
				for _, cond := range n.Status.Conditions {
					if cond.Type == corev1.NodeReady && cond.Status == corev1.ConditionTrue {
						return ""
					}
				}
				return "not Ready"
			})
		}},
		{ControllerManager, "the node lifecycle controller to remove the nodes' taints", func(ctx context.Context) (bool, string) {
			return c.nodesMatch(ctx, client, func(n *corev1.Node) string {
				if len(n.Spec.Taints) > 0 {
					return fmt.Sprintf("tainted %v", n.Spec.Taints)
				}
				return ""
			})
		}},
		{ControllerManager, "the ServiceAccount default/default", func(ctx context.Context) (bool, string) {
			_, err := client.CoreV1().ServiceAccounts(metav1.NamespaceDefault).Get(ctx, "default", metav1.GetOptions{})
			if err != nil {
				return false, err.Error()
			}
			return true, ""
		}},
	} {
		if err := c.waitFor(ctx, w.component, w.what, w.check); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Close stops all components (SIGTERM, then SIGKILL after a grace period) and
// waits for them to exit, then removes Dir unless it was given in Options.
// It is safe to call more than once.
func (c *Cluster) Close() error {
	c.closeOnce.Do(func() {
		var errs []error
		// Stop the clients of kube-apiserver together, then kube-apiserver,
		// then etcd: in reverse start order, each tier after the one above.
		for _, tier := range [][]Component{{Kwok, Scheduler, ControllerManager}, {APIServer}, {Etcd}} {
			var wg sync.WaitGroup
			var mu sync.Mutex
			for _, p := range c.procs {
				if !slices.Contains(tier, Component(p.name)) {
					continue
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					if err := p.stop(10 * time.Second); err != nil {
						mu.Lock()
						errs = append(errs, err)
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
		}
		if !c.keepDir && c.Dir != "" {
			if err := os.RemoveAll(c.Dir); err != nil {
				errs = append(errs, err)
			}
		}
		if err := errors.Join(errs...); err != nil {
			c.closeErr = fmt.Errorf("closing cluster: %w", err)
		}
	})
	return c.closeErr
}

// DumpLogs reports the last 60 lines of every component's log through logf
// (e.g. t.Logf), and if $BLUEGREEN_KEEP_LOGS names a directory, copies the
// logs into a subdirectory of it. Call it before Close when a test failed.
func (c *Cluster) DumpLogs(logf func(format string, args ...any)) {
	for _, p := range c.procs {
		logf("---- last 60 lines of %s ----\n%s", p.logPath, logTail(p.logPath, 60))
	}
	if dst, err := c.keepLogs(); err != nil {
		logf("copying component logs: %v", err)
	} else if dst != "" {
		logf("component logs copied to %s", dst)
	}
}

// LogPath returns the path of a component's log file.
func (c *Cluster) LogPath(component Component) string {
	return filepath.Join(c.Dir, "logs", string(component)+".log")
}

// startup holds what prepare computed for the components' command lines.
type startup struct {
	etcdPort, controllerManagerPort, schedulerPort int

	etcdArgs, apiserverArgs, controllerManagerArgs, schedulerArgs, kwokArgs []string
}

// prepare writes certificates, keys, the token file, kubeconfig, scheduler
// configuration and kwok stages into c.Dir, sets c.Config and c.KubeconfigPath,
// and returns the components' command lines.
func (c *Cluster) prepare(opts Options) (*startup, error) {
	for _, d := range []string{"logs", "pki", "etcd", "kwok"} {
		if err := os.MkdirAll(filepath.Join(c.Dir, d), 0o700); err != nil {
			return nil, err
		}
	}
	pki, err := writePKI(filepath.Join(c.Dir, "pki"))
	if err != nil {
		return nil, err
	}
	ports, err := FreePorts(5)
	if err != nil {
		return nil, err
	}
	s := &startup{etcdPort: ports[0], controllerManagerPort: ports[3], schedulerPort: ports[4]}
	etcdPeerPort, apiserverPort := ports[1], ports[2]

	token := randomToken()
	tokenFile := filepath.Join(c.Dir, "pki", "tokens.csv")
	if err := os.WriteFile(tokenFile, []byte(token+`,admin,admin,"system:masters"`+"\n"), 0o600); err != nil {
		return nil, err
	}
	server := fmt.Sprintf("https://127.0.0.1:%d", apiserverPort)
	c.Config = &rest.Config{
		Host:            server,
		BearerToken:     token,
		TLSClientConfig: rest.TLSClientConfig{CAData: pki.caPEM},
		QPS:             200,
		Burst:           400,
	}
	c.KubeconfigPath = filepath.Join(c.Dir, "kubeconfig")
	kubeconfig := clientcmdapi.NewConfig()
	kubeconfig.Clusters["bluegreen"] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: pki.caPEM}
	kubeconfig.AuthInfos["admin"] = &clientcmdapi.AuthInfo{Token: token}
	kubeconfig.Contexts["bluegreen"] = &clientcmdapi.Context{Cluster: "bluegreen", AuthInfo: "admin", Namespace: metav1.NamespaceDefault}
	kubeconfig.CurrentContext = "bluegreen"
	if err := clientcmd.WriteToFile(*kubeconfig, c.KubeconfigPath); err != nil {
		return nil, err
	}

	schedulerConfig := filepath.Join(c.Dir, "kube-scheduler.yaml")
	if err := os.WriteFile(schedulerConfig, []byte(`apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
clientConnection:
  kubeconfig: `+strconv.Quote(c.KubeconfigPath)+`
  qps: 500
  burst: 1000
leaderElection:
  leaderElect: false
`), 0o644); err != nil {
		return nil, err
	}
	stagesFile := filepath.Join(c.Dir, "kwok", "stages.yaml")
	if err := os.WriteFile(stagesFile, []byte(stagesYAML()), 0o644); err != nil {
		return nil, err
	}

	etcdPeer := fmt.Sprintf("http://127.0.0.1:%d", etcdPeerPort)
	etcdClient := fmt.Sprintf("http://127.0.0.1:%d", s.etcdPort)
	s.etcdArgs = []string{
		"--name=etcd0",
		"--data-dir=" + filepath.Join(c.Dir, "etcd"),
		"--listen-client-urls=" + etcdClient,
		"--advertise-client-urls=" + etcdClient,
		"--listen-peer-urls=" + etcdPeer,
		"--initial-advertise-peer-urls=" + etcdPeer,
		"--initial-cluster=etcd0=" + etcdPeer,
		"--unsafe-no-fsync", // throwaway data: trade durability for speed
		"--log-level=warn",
	}
	s.apiserverArgs = []string{
		"--etcd-servers=" + etcdClient,
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		fmt.Sprintf("--secure-port=%d", apiserverPort),
		"--cert-dir=" + filepath.Join(c.Dir, "pki"),
		"--tls-cert-file=" + pki.servingCert,
		"--tls-private-key-file=" + pki.servingKey,
		"--client-ca-file=" + pki.caCert,
		"--token-auth-file=" + tokenFile,
		"--authorization-mode=Node,RBAC",
		"--service-account-key-file=" + pki.saPub,
		"--service-account-signing-key-file=" + pki.saKey,
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-cluster-ip-range=" + ServiceCIDR,
		// The kubernetes Service would point at 127.0.0.1, which Endpoints
		// validation rejects; nothing in the cluster needs to reach it.
		"--endpoint-reconciler-type=none",
		"--allow-privileged=true",
		"--max-requests-inflight=1000",
		"--max-mutating-requests-inflight=500",
	}
	s.controllerManagerArgs = []string{
		"--kubeconfig=" + c.KubeconfigPath,
		"--authentication-kubeconfig=" + c.KubeconfigPath,
		"--authorization-kubeconfig=" + c.KubeconfigPath,
		// kube-apiserver runs without a front proxy: there is no request-header
		// CA to look up (looking for one logs an error every few seconds).
		"--authentication-skip-lookup",
		"--bind-address=127.0.0.1",
		fmt.Sprintf("--secure-port=%d", s.controllerManagerPort),
		"--leader-elect=false",
		// nodeipam would allocate pod CIDRs; kwok assigns pod IPs itself.
		"--controllers=*,-nodeipam",
		"--use-service-account-credentials=false",
		"--service-account-private-key-file=" + pki.saKey,
		"--root-ca-file=" + pki.caCert,
		"--cluster-signing-cert-file=" + pki.caCert,
		"--cluster-signing-key-file=" + pki.caKey,
		// kwok renews node leases, but a CPU-starved kwok must not make the
		// node lifecycle controller mark nodes (and so their pods) NotReady.
		"--node-monitor-grace-period=5m",
		"--kube-api-qps=500",
		"--kube-api-burst=1000",
	}
	s.schedulerArgs = []string{
		"--config=" + schedulerConfig, // has the kubeconfig and client limits
		"--authentication-kubeconfig=" + c.KubeconfigPath,
		"--authorization-kubeconfig=" + c.KubeconfigPath,
		"--authentication-skip-lookup",
		"--bind-address=127.0.0.1",
		fmt.Sprintf("--secure-port=%d", s.schedulerPort),
	}
	s.kwokArgs = []string{
		"--kubeconfig=" + c.KubeconfigPath,
		"--config=" + stagesFile,
		"--manage-all-nodes=false",
		"--manage-nodes-with-annotation-selector=" + KwokNodeAnnotation + "=fake",
		"--node-lease-duration-seconds=40",
		"--cidr=" + PodCIDR,
	}
	return s, nil
}

// start starts one component with args plus its Options.ExtraArgs.
func (c *Cluster) start(component Component, bins map[string]string, args []string, opts Options, env []string) error {
	args = append(args[:len(args):len(args)], opts.ExtraArgs[component]...)
	p, err := startProcess(string(component), bins[string(component)], args, env, filepath.Join(c.Dir, "logs"))
	if err != nil {
		return err
	}
	c.procs = append(c.procs, p)
	return nil
}

// createNodes creates n Node objects for kwok to manage.
func (c *Cluster) createNodes(ctx context.Context, client kubernetes.Interface, n int) error {
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse("1000"),
		corev1.ResourceMemory: resource.MustParse("1Ti"),
		corev1.ResourcePods:   resource.MustParse("1000"),
	}
	for i := range n {
		name := fmt.Sprintf("kwok-node-%d", i)
		node := &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{
				Name: name,
				Labels: map[string]string{
					NodeTypeLabel:                   NodeTypeKwok,
					corev1.LabelHostname:            name,
					corev1.LabelOSStable:            "linux",
					corev1.LabelArchStable:          "amd64",
					"node-role.kubernetes.io/agent": "",
				},
				Annotations: map[string]string{KwokNodeAnnotation: "fake"},
			},
			Status: corev1.NodeStatus{Capacity: capacity, Allocatable: capacity},
		}
		if _, err := client.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("creating node %s: %w", name, err)
		}
		c.Nodes = append(c.Nodes, name)
	}
	return nil
}

// nodesMatch checks every node of c with problem, which returns "" for a node
// that is as wanted.
func (c *Cluster) nodesMatch(ctx context.Context, client kubernetes.Interface, problem func(*corev1.Node) string) (bool, string) {
	var problems []string
	for _, name := range c.Nodes {
		n, err := client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		if p := problem(n); p != "" {
			problems = append(problems, name+": "+p)
		}
	}
	return len(problems) == 0, strings.Join(problems, "; ")
}

// waitFor polls check until it succeeds. It fails at once if any component
// has exited, and when ctx ends, naming component as the one that did not
// become ready, with what check last saw and the end of the component's log.
func (c *Cluster) waitFor(ctx context.Context, component Component, what string, check func(context.Context) (bool, string)) error {
	start := time.Now()
	var last string
	for {
		if err := c.exitedOr("waiting for "+what, nil); err != nil {
			return err
		}
		reqCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		ok, seen := check(reqCtx)
		cancel()
		if ok {
			return nil
		}
		if seen != "" {
			last = seen
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s did not become ready: gave up after %s waiting for %s (last seen: %s); its log ends:\n%s",
				component, time.Since(start).Round(time.Millisecond), what, last, logTail(c.LogPath(component), 40))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// exitedOr returns an error naming the first component that has exited,
// with the end of its log, if any has; else err. A component that exits
// explains why a step failed better than the step's own error.
func (c *Cluster) exitedOr(doing string, err error) error {
	for _, p := range c.procs {
		if done, exitErr := p.exited(); done {
			return fmt.Errorf("%s exited (%v) while %s; its log ends:\n%s",
				p.name, exitErr, doing, logTail(p.logPath, 40))
		}
	}
	return err
}

// keepLogs copies the logs to $BLUEGREEN_KEEP_LOGS/<base of Dir>, if set,
// and returns that directory.
func (c *Cluster) keepLogs() (string, error) {
	root := os.Getenv(KeepLogsEnv)
	if root == "" || c.Dir == "" {
		return "", nil
	}
	dst := filepath.Join(root, filepath.Base(c.Dir))
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return "", err
	}
	entries, err := os.ReadDir(filepath.Join(c.Dir, "logs"))
	if err != nil {
		return "", err
	}
	for _, e := range entries {
		if err := copyFile(filepath.Join(c.Dir, "logs", e.Name()), filepath.Join(dst, e.Name())); err != nil {
			return "", err
		}
	}
	return dst, nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// healthClient checks the health endpoints of the components. They serve
// self-signed certificates on 127.0.0.1 and /healthz carries no secrets, so
// the certificate is not verified.
var healthClient = &http.Client{Transport: &http.Transport{
	TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // local health checks only, see above
}}

// httpOK reports whether GET url answers 200 with a body containing want.
func httpOK(ctx context.Context, url, want string) (bool, string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false, err.Error()
	}
	resp, err := healthClient.Do(req)
	if err != nil {
		return false, err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
		return false, fmt.Sprintf("%s: %s %s", url, resp.Status, strings.TrimSpace(string(body)))
	}
	return true, ""
}

// freePorts returns n distinct free TCP ports on 127.0.0.1. Another process
// could take one before the component binds it; the component then fails to
// start and says so in its log.
// FreePorts returns n distinct free TCP ports of 127.0.0.1, for the cluster's components
// and for anything else a test or the demo serves or starts.
func FreePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("finding a free port: %w", err)
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func deadline(ctx context.Context) time.Time {
	if d, ok := ctx.Deadline(); ok {
		return d
	}
	return time.Now().Add(time.Minute)
}
