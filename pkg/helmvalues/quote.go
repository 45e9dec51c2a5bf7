package helmvalues

import (
	"fmt"
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v3"
	sigsyaml "sigs.k8s.io/yaml"
)

// plainIsString says whether v, written plain as a value (or key) in block or flow
// context, reads back as the string v in YAML 1.2 (yaml.v3) and YAML 1.1 (Helm).
func plainIsString(v string, flow, key bool) bool {
	if v == "" || v != strings.TrimSpace(v) || strings.ContainsAny(v[:1], "-?:,[]{}#&*!|>'\"%@`") ||
		strings.Contains(v, ": ") || strings.Contains(v, " #") || strings.HasSuffix(v, ":") ||
		flow && strings.ContainsAny(v, ",[]{}") {
		return false
	}
	for _, r := range v {
		if r < 0x20 || r == 0x7F || r >= 0x80 && r < 0xA0 || r == 0x2028 || r == 0x2029 || r == 0xFEFF || r >= 0xD800 && r < 0xE000 || r == 0xFFFE || r == 0xFFFF {
			return false
		}
	}
	probe := "k: " + v
	if key {
		probe = v + ": k"
	}
	if flow {
		probe = "{" + probe + "}"
	}
	var doc yaml.Node
	if yaml.Unmarshal([]byte(probe), &doc) != nil || len(doc.Content) != 1 {
		return false
	}
	m := doc.Content[0]
	if m.Kind != yaml.MappingNode || len(m.Content) != 2 {
		return false
	}
	n := m.Content[1]
	if key {
		n = m.Content[0]
	}
	if n.Kind != yaml.ScalarNode || n.Tag != "!!str" || n.Value != v {
		return false
	}
	var helm map[string]any
	if sigsyaml.Unmarshal([]byte(probe), &helm) != nil || len(helm) != 1 {
		return false
	}
	if key {
		_, ok := helm[v]
		return ok
	}
	got, ok := helm["k"].(string)
	return ok && got == v
}

// helmReadsKey says whether Helm (sigs.k8s.io/yaml, YAML 1.1) reads the plain key k as
// the string k: a plain y or on is the boolean true, whose key is "true".
func helmReadsKey(k string, flow bool) bool {
	probe := k + ": x"
	if flow {
		probe = "{" + probe + "}"
	}
	var helm map[string]any
	if sigsyaml.Unmarshal([]byte(probe), &helm) != nil {
		return true // not something to judge in isolation; the edit is verified anyway
	}
	_, ok := helm[k]
	return ok
}

// yamlPrintable is what YAML allows unescaped in a quoted scalar (without line breaks,
// tabs and the byte order mark).
func yamlPrintable(r rune) bool {
	return r >= 0x20 && r <= 0x7E || r >= 0xA0 && r <= 0xD7FF && r != 0x2028 && r != 0x2029 ||
		r >= 0xE000 && r <= 0xFFFD && r != 0xFEFF || r >= 0x10000 && r <= 0x10FFFF
}

// doubleQuoted writes v double-quoted, with escapes where YAML needs them.
func doubleQuoted(v string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range v {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == 0:
			b.WriteString(`\0`)
		case yamlPrintable(r):
			b.WriteRune(r)
		case r <= 0xFF:
			fmt.Fprintf(&b, `\x%02X`, r)
		case r <= 0xFFFF:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			fmt.Fprintf(&b, `\U%08X`, r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// singleQuoted writes v single-quoted, or double-quoted if it has characters that need
// an escape.
func singleQuoted(v string) string {
	for _, r := range v {
		if !yamlPrintable(r) {
			return doubleQuoted(v)
		}
	}
	return "'" + strings.ReplaceAll(v, "'", "''") + "'"
}

// displayValue is a scalar as Result.Old gives it: strings quoted, others (as Helm
// reads them: a plain yes is a boolean) as written.
func displayValue(n *yaml.Node, flow bool) string {
	if n.Tag == "!!str" && (n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.TaggedStyle) != 0 || plainIsString(n.Value, flow, false)) {
		return strconv.Quote(n.Value)
	}
	if n.Tag == "!!null" && n.Value == "" {
		return "null"
	}
	return n.Value
}
