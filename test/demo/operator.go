package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"

	v1alpha1 "github.com/bluegreen-dev/bluegreen/api/v1alpha1"
	"github.com/bluegreen-dev/bluegreen/test/cluster"
	slacktest "github.com/bluegreen-dev/bluegreen/test/slack"
)

// configureSlack writes the notifications ConfigMap and Secret the operator reads: to
// real Slack when a token and a channel were given, else to a local stand-in.
func (d *demo) configureSlack(ctx context.Context) error {
	if err := d.ensureNamespace(ctx, systemNamespace); err != nil {
		return err
	}
	token, service := d.slackToken, "token: $slack-token\nusername: bluegreen\nicon: \":large_blue_circle:\"\n"
	if d.slackToken == "" || d.slackChannel == "" {
		d.slack = slacktest.NewServer()
		token = slacktest.Token
		service += "apiURL: " + d.slack.APIURL() + "\n"
		fmt.Fprintf(d.out, "Slack: a local stand-in of the Slack Web API at %s\n", d.slack.APIURL())
		fmt.Fprintln(d.out, "(set SLACK_TOKEN to a bot token with chat:write and SLACK_CHANNEL to a channel it is in, to post to real Slack)")
	} else {
		fmt.Fprintf(d.out, "Slack: posting to #%s with the token in SLACK_TOKEN\n", d.slackChannel)
	}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "bluegreen-notifications-secret", Namespace: systemNamespace},
		StringData: map[string]string{"slack-token": token}}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "bluegreen-notifications-cm", Namespace: systemNamespace},
		Data: map[string]string{"service.slack": service}}
	if err := d.k8s.Create(ctx, secret); err != nil {
		return err
	}
	return d.k8s.Create(ctx, cm)
}

// startOperator runs bin/manager against the cluster, as a developer would run it, and
// returns a function that stops it.
func (d *demo) startOperator(ctx context.Context, prometheusURL string) (func(), error) {
	ports, err := cluster.FreePorts(2)
	if err != nil {
		return nil, err
	}
	logPath := filepath.Join(d.cluster.Dir, "operator.log")
	log, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	args := []string{
		"--leader-elect=false",
		fmt.Sprintf("--metrics-bind-address=127.0.0.1:%d", ports[0]), "--metrics-secure=false",
		fmt.Sprintf("--health-probe-bind-address=127.0.0.1:%d", ports[1]),
		"--prometheus-address=" + prometheusURL,
		"--notifications-namespace=" + systemNamespace,
	}
	fmt.Fprintf(d.out, "$ manager %s\n", strings.Join(args, " "))
	cmd := exec.Command(filepath.Join(d.bin, "manager"), args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+d.cluster.KubeconfigPath)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = cluster.ChildProcAttr()
	if err := cmd.Start(); err != nil {
		log.Close()
		return nil, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait(); log.Close() }()
	stop := func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	}

	ready := fmt.Sprintf("http://127.0.0.1:%d/readyz", ports[1])
	deadline := time.Now().Add(time.Minute)
	for {
		resp, err := http.Get(ready)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case err := <-exited:
			exited <- err
			stop()
			return nil, fmt.Errorf("the operator exited (%v); its log:\n%s", err, tail(logPath, 30))
		case <-ctx.Done():
			stop()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			stop()
			return nil, fmt.Errorf("the operator is not ready after a minute; its log:\n%s", tail(logPath, 30))
		}
	}
	fmt.Fprintf(d.out, "The operator is ready; its log is %s\n", logPath)
	return stop, nil
}

// watchSelector records every value the active Service's pod-template-hash selector takes
// from now on; the returned function stops and returns them in order.
func watchSelector(ctx context.Context, cs kubernetes.Interface, ns, name string) func() []string {
	ctx, cancel := context.WithCancel(ctx)
	var mu sync.Mutex
	var seen []string
	record := func(svc *corev1.Service) {
		mu.Lock()
		defer mu.Unlock()
		if h := svc.Spec.Selector[v1alpha1.PodTemplateHashLabel]; len(seen) == 0 || seen[len(seen)-1] != h {
			seen = append(seen, h)
		}
	}
	started := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		opts := metav1.ListOptions{FieldSelector: fields.OneTermEqualSelector("metadata.name", name).String()}
		list, err := cs.CoreV1().Services(ns).List(ctx, opts)
		if err != nil {
			close(started)
			return
		}
		for i := range list.Items {
			record(&list.Items[i])
		}
		rv := list.ResourceVersion
		close(started)
		for ctx.Err() == nil {
			opts.ResourceVersion = rv
			w, err := cs.CoreV1().Services(ns).Watch(ctx, opts)
			if err != nil {
				select {
				case <-ctx.Done():
				case <-time.After(100 * time.Millisecond):
				}
				continue
			}
			for ev := range w.ResultChan() {
				if svc, ok := ev.Object.(*corev1.Service); ok && (ev.Type == watch.Added || ev.Type == watch.Modified) {
					record(svc)
					rv = svc.ResourceVersion
				}
			}
			w.Stop()
		}
	}()
	<-started
	stop := sync.OnceFunc(func() { cancel(); <-done })
	return func() []string {
		stop()
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(seen)
	}
}

// showSlack waits for the messages of both releases and prints them as a channel shows
// them: one line per release, the rest in its thread.
func (d *demo) showSlack(ctx context.Context) error {
	if d.slack == nil {
		fmt.Fprintf(d.out, "The messages went to #%s.\n", d.slackChannel)
		return nil
	}
	// The last messages expected: the good revision is stable, the bad one aborted.
	want := func(msgs []slacktest.Message) bool {
		var completed, aborted bool
		for _, m := range msgs {
			completed = completed || strings.Contains(m.Text, d.result.good) && strings.Contains(m.Text, "is stable")
			aborted = aborted || strings.Contains(m.Text, d.result.bad) && strings.Contains(m.Text, "was aborted")
		}
		return completed && aborted
	}
	deadline := time.Now().Add(time.Minute)
	for !want(d.slack.Messages()) {
		if time.Now().After(deadline) {
			return fmt.Errorf("slack: the completed and aborted messages did not arrive; received:\n%s", formatMessages(d.slack.Messages()))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	d.result.messages = d.slack.Messages()
	fmt.Fprint(d.out, formatMessages(d.result.messages))
	return nil
}

// formatMessages shows messages by channel, each thread's replies under its first line.
func formatMessages(msgs []slacktest.Message) string {
	var b strings.Builder
	var channels []string
	for _, m := range msgs {
		if !slices.Contains(channels, m.Channel) {
			channels = append(channels, m.Channel)
		}
	}
	for _, ch := range channels {
		fmt.Fprintf(&b, "#%s\n", strings.TrimPrefix(ch, "#"))
		for _, m := range msgs {
			if m.Channel != ch || m.Method == "chat.update" {
				continue
			}
			prefix, cont := "  ", "  "
			if m.ThreadTS != "" {
				prefix, cont = "    └ ", "      "
			}
			lines := strings.Split(strings.TrimSpace(m.Text), "\n")
			for i, l := range lines {
				if i == 0 {
					fmt.Fprintf(&b, "%s%s\n", prefix, l)
				} else {
					fmt.Fprintf(&b, "%s%s\n", cont, l)
				}
			}
		}
	}
	return b.String()
}

// tail returns the last n lines of a file.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
