package helmvalues

import (
	"bytes"
	"errors"
	"io"
	"regexp"
	"sort"
	"strconv"

	yaml "go.yaml.in/yaml/v3"
)

var yamlLineRE = regexp.MustCompile(`^yaml: (?:line (\d+): )?`)

// parseDocument parses the one document of a values file; nil when it has none.
func parseDocument(data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	err := dec.Decode(&doc)
	if errors.Is(err, io.EOF) {
		return nil, nil
	}
	if err != nil {
		return nil, yamlSyntaxError(data, err)
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, yamlSyntaxError(data, err)
	default:
		return nil, errorAt(next.Line, "a second YAML document starts here; values set edits files of one document, as a Helm values file is: remove the --- line or split the file")
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	return doc.Content[0], nil
}

// yamlSyntaxError names the line of a YAML error. yaml.v3 reports no line for errors on
// the first line and, for parser errors, the line of the enclosing node: the first prefix
// of the file that fails with the same message has the line where the problem is.
func yamlSyntaxError(data []byte, err error) error {
	msg := func(err error) string { return yamlLineRE.ReplaceAllString(err.Error(), "") }
	want := msg(err)
	starts := yamlLineStarts(data)
	lineEnd := func(n int) int { // end of the first n lines
		if n < len(starts) {
			return starts[n]
		}
		return len(data)
	}
	fails := func(n int) bool {
		dec := yaml.NewDecoder(bytes.NewReader(data[:lineEnd(n)]))
		for {
			var doc yaml.Node
			err := dec.Decode(&doc)
			if err == nil {
				continue
			}
			return !errors.Is(err, io.EOF) && msg(err) == want
		}
	}
	line := sort.Search(len(starts), func(i int) bool { return fails(i + 1) }) + 1
	if line > len(starts) {
		if m := yamlLineRE.FindStringSubmatch(err.Error()); m != nil && m[1] != "" {
			line, _ = strconv.Atoi(m[1])
		} else {
			line = 0
		}
	}
	return errorAt(line, "not valid YAML: %s; fix the file first", want)
}
