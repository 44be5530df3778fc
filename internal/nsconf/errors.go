package nsconf

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/gslbd/gslbd/internal/nserr"
)

// Pos is a place in a configuration source. Line and Col are 1-based; Col
// counts bytes.
type Pos struct {
	File string
	Line int
	Col  int
}

func (p Pos) String() string {
	file := p.File
	if file == "" {
		file = "<input>"
	}
	if p.Col > 0 {
		return fmt.Sprintf("%s:%d:%d", file, p.Line, p.Col)
	}
	return fmt.Sprintf("%s:%d", file, p.Line)
}

// Error is one problem found in a configuration, with its place and, where
// one applies, the NITRO error code.
type Error struct {
	Pos  Pos
	Code nserr.Code
	Msg  string
}

func (e *Error) Error() string { return e.Pos.String() + ": " + e.Msg }

// ErrorList is every problem of a source, reported together (like
// go/scanner.ErrorList).
type ErrorList []*Error

// Add appends an error.
func (l *ErrorList) Add(pos Pos, code nserr.Code, format string, args ...any) {
	*l = append(*l, &Error{Pos: pos, Code: code, Msg: fmt.Sprintf(format, args...)})
}

// Sort orders the list by file, line and column.
func (l ErrorList) Sort() {
	sort.SliceStable(l, func(i, j int) bool {
		a, b := l[i].Pos, l[j].Pos
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
}

func (l ErrorList) Error() string {
	switch len(l) {
	case 0:
		return "no errors"
	case 1:
		return l[0].Error()
	}
	var b strings.Builder
	for i, e := range l {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Err returns nil for an empty list, else the list itself.
func (l ErrorList) Err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}

// AsList returns the ErrorList inside err, if any.
func AsList(err error) (ErrorList, bool) {
	var l ErrorList
	if errors.As(err, &l) {
		return l, true
	}
	return nil, false
}
