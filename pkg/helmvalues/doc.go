// Package helmvalues changes one value of a Helm values file, byte for byte, as a person
// editing the file would.
//
// Set parses the file with yaml.v3 only to find where the value is, then splices the new
// value into the original bytes. It guarantees:
//
//   - Only the bytes of the value change. Comments (also on the same line), key order,
//     indentation, blank lines, line endings (CRLF stays CRLF), document markers, the
//     value's anchor and !!str tag, and every other value stay as they are. A missing key
//     is added as new lines at the end of its mapping, with the mapping's indentation and
//     any missing parent mappings, or as a new entry inside the braces of a flow mapping;
//     list items are never created.
//   - The value is written as a string, the way Helm will read it. It keeps its quoting
//     (plain, 'single' or "double"), but is double-quoted where, plain, it would read as
//     another type or not parse: 1.10, yes, null, 0x1F, *x, a: b, …
//   - Every result is verified before Set returns it. Parsed again, every node but the
//     key's has the kind, tag, value, anchor and style it had, so the file reads as before
//     in yaml.v3 and as Helm reads values (sigs.k8s.io/yaml, YAML 1.1); and the key reads
//     as the string value in both. An edit that does not pass is never returned.
//
// What Set cannot change without changing more than the value, it refuses with an *Error
// that names the line: a file of several documents, a block scalar or a value written over
// several lines, an alias or a key under one, a mapping or a list where a value was
// expected, an explicit tag other than !!str, a key that is twice in its mapping, a plain
// key that Helm reads as another type (y, on), a missing list.
//
// The messages are written for the command that uses this package, kubectl bluegreen
// values set: they name it and its --key flag.
package helmvalues
