package helmvalues

import "fmt"

// Error is a values file that Set cannot change as asked, with the line.
type Error struct {
	Line int // 0 when the error is about no particular line
	Msg  string
	// unverified: an edit was made but did not read back as intended. That is a bug of
	// Set, not of the file; the fuzz test fails on it.
	unverified bool
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
	}
	return e.Msg
}

// errorAt is an *Error at line (0 for none).
func errorAt(line int, format string, args ...any) *Error {
	return &Error{Line: line, Msg: fmt.Sprintf(format, args...)}
}
