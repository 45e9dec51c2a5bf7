package helmvalues

import (
	"fmt"
	"testing"
)

func TestParseValuesKey(t *testing.T) {
	for _, c := range []struct {
		key  string
		want []segment
	}{
		{"image.tag", []segment{{"image", -1}, {"tag", -1}}},
		{`a\.b.c`, []segment{{"a.b", -1}, {"c", -1}}},
		{`a\\.b`, []segment{{`a\`, -1}, {"b", -1}}},
		{"list[0].x[12][3]", []segment{{"list", -1}, {"", 0}, {"x", -1}, {"", 12}, {"", 3}}},
		{`é\[1\]`, []segment{{"é[1]", -1}}},
	} {
		got, err := parseKey(c.key)
		if err != nil || fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("%q: %v, %v; want %v", c.key, got, err, c.want)
		}
		if back := formatKey(got); back != c.key {
			t.Errorf("%q formats back as %q", c.key, back)
		}
	}
	for _, bad := range []string{"", ".a", "a.", "a..b", "a[", "a[x]", "a[-1]", "a[0]b", `a\`, "a]"} {
		if _, err := parseKey(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
