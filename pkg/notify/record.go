package notify

import (
	"slices"
	"strings"

	v1alpha1 "github.com/bluegreen-dev/bluegreen/api/v1alpha1"
)

// maxSentEntries bounds the sent annotation: a revision has at most a few triggers times
// a few channels.
const maxSentEntries = 64

// Record is what was delivered for the current revision of a Rollout, kept in its
// annotations so that a restarted controller sends nothing twice. It holds one revision:
// recording a newer revision drops the older one's entries.
type Record struct {
	Revision string
	// Sent holds "<trigger>/<destination>" keys, in the order they were sent.
	Sent []string
	// Threads maps a channel to the ts of the revision's first message there.
	Threads map[string]string
}

func sentKey(t Trigger, d Destination) string { return string(t) + "/" + d.String() }

// ReadRecord reads the record from a Rollout's annotations.
func ReadRecord(annotations map[string]string) Record {
	r := Record{Threads: map[string]string{}}
	if f := strings.Fields(annotations[v1alpha1.NotificationsSentAnnotation]); len(f) > 0 {
		r.Revision, r.Sent = f[0], f[1:]
	}
	if f := strings.Fields(annotations[v1alpha1.NotificationsThreadsAnnotation]); len(f) > 0 && f[0] == r.Revision {
		for _, kv := range f[1:] {
			if ch, ts, ok := strings.Cut(kv, "="); ok {
				r.Threads[ch] = ts
			}
		}
	}
	return r
}

// For returns the record of revision: this one, or an empty one when it is of another revision.
func (r Record) For(revision string) Record {
	if r.Revision == revision {
		return r
	}
	return Record{Revision: revision, Threads: map[string]string{}}
}

// WasSent reports whether the trigger was delivered to the destination for r.Revision.
func (r Record) WasSent(t Trigger, d Destination) bool { return slices.Contains(r.Sent, sentKey(t, d)) }

// MarkSent returns r with the delivery recorded, and the thread started in channel when
// ts is the first message there.
func (r Record) MarkSent(t Trigger, d Destination, ts string) Record {
	out := Record{Revision: r.Revision, Sent: slices.Clone(r.Sent), Threads: map[string]string{}}
	for k, v := range r.Threads {
		out.Threads[k] = v
	}
	if !out.WasSent(t, d) {
		out.Sent = append(out.Sent, sentKey(t, d))
	}
	if len(out.Sent) > maxSentEntries {
		out.Sent = out.Sent[len(out.Sent)-maxSentEntries:]
	}
	if _, ok := out.Threads[d.Recipient]; !ok && ts != "" {
		out.Threads[d.Recipient] = ts
	}
	return out
}

// Annotations renders r as the values of its two annotations.
func (r Record) Annotations() map[string]string {
	sent := strings.Join(append([]string{r.Revision}, r.Sent...), " ")
	threads := []string{r.Revision}
	channels := make([]string, 0, len(r.Threads))
	for ch := range r.Threads {
		channels = append(channels, ch)
	}
	slices.Sort(channels)
	for _, ch := range channels {
		threads = append(threads, ch+"="+r.Threads[ch])
	}
	out := map[string]string{v1alpha1.NotificationsSentAnnotation: sent}
	if len(threads) > 1 {
		out[v1alpha1.NotificationsThreadsAnnotation] = strings.Join(threads, " ")
	}
	return out
}
