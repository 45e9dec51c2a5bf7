package notify

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	v1alpha1 "github.com/bluegreen-dev/bluegreen/api/v1alpha1"
)

func TestRecord(t *testing.T) {
	a, b := Destination{ServiceSlack, "a"}, Destination{ServiceSlack, "b"}
	r := ReadRecord(nil).For("h1")
	r = r.MarkSent(OnRolloutUpdated, a, "100.1").MarkSent(OnRolloutUpdated, b, "").MarkSent(OnRolloutPaused, a, "100.2")
	ann := r.Annotations()
	want := map[string]string{
		v1alpha1.NotificationsSentAnnotation:    "h1 on-rollout-updated/slack:a on-rollout-updated/slack:b on-rollout-paused/slack:a",
		v1alpha1.NotificationsThreadsAnnotation: "h1 a=100.1",
	}
	if diff := cmp.Diff(want, ann); diff != "" {
		t.Errorf("annotations (-want +got):\n%s", diff)
	}
	back := ReadRecord(ann)
	if !back.WasSent(OnRolloutPaused, a) || back.WasSent(OnRolloutPaused, b) || back.Threads["a"] != "100.1" {
		t.Errorf("read back %+v", back)
	}
	// Another revision starts empty: the older revision's entries are dropped when it is written.
	next := back.For("h2")
	if next.WasSent(OnRolloutUpdated, a) || len(next.Threads) != 0 {
		t.Errorf("record of h2 = %+v", next)
	}
	if got := next.MarkSent(OnRolloutUpdated, a, "200.1").Annotations(); got[v1alpha1.NotificationsSentAnnotation] != "h2 on-rollout-updated/slack:a" {
		t.Errorf("h2 annotations = %v", got)
	}
	// Threads of another revision are not read.
	stale := ReadRecord(map[string]string{v1alpha1.NotificationsSentAnnotation: "h2", v1alpha1.NotificationsThreadsAnnotation: "h1 a=1.0"})
	if len(stale.Threads) != 0 {
		t.Errorf("threads of another revision read: %v", stale.Threads)
	}
	// Bounded.
	big := ReadRecord(nil).For("h3")
	for i := range 100 {
		big = big.MarkSent(OnRolloutUpdated, Destination{ServiceSlack, fmt.Sprint("c", i)}, "")
	}
	if len(big.Sent) != maxSentEntries || !big.WasSent(OnRolloutUpdated, Destination{ServiceSlack, "c99"}) {
		t.Errorf("%d entries, want %d with the newest kept", len(big.Sent), maxSentEntries)
	}
}
