package nsconf

import (
	"github.com/gslbd/gslbd/internal/nserr"
)

// Token is one word of a command line.
type Token struct {
	Text   string
	Col    int  // 1-based byte column of the token's first character
	Quoted bool // some part was quoted: never an option name
}

// IsOption reports whether the token names an argument (-name).
func (t Token) IsOption() bool {
	return !t.Quoted && len(t.Text) > 1 && t.Text[0] == '-' && !isDigit(t.Text[1])
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f' }

// Lex splits one line into tokens. Double quotes allow \" and \\ escapes;
// single quotes take everything literally until the next single quote
// (docs §1.3). Quotes may join with unquoted text in one token.
func Lex(line string, lineNo int, file string) ([]Token, *Error) {
	toks := make([]Token, 0, 16)
	i := 0
	for {
		for i < len(line) && isSpace(line[i]) {
			i++
		}
		if i >= len(line) {
			return toks, nil
		}
		start := i
		// Most words have no quotes: they are a slice of the line.
		for i < len(line) && !isSpace(line[i]) && line[i] != '"' && line[i] != '\'' {
			i++
		}
		if i >= len(line) || isSpace(line[i]) {
			toks = append(toks, Token{Text: line[start:i], Col: start + 1})
			continue
		}
		buf := []byte(line[start:i])
		quoted := false
		for i < len(line) && !isSpace(line[i]) {
			c := line[i]
			switch c {
			case '"':
				quoted = true
				i++
				closed := false
				for i < len(line) {
					c := line[i]
					if c == '\\' && i+1 < len(line) && (line[i+1] == '"' || line[i+1] == '\\') {
						buf = append(buf, line[i+1])
						i += 2
						continue
					}
					if c == '"' {
						closed = true
						i++
						break
					}
					buf = append(buf, c)
					i++
				}
				if !closed {
					return nil, &Error{Pos: Pos{File: file, Line: lineNo, Col: start + 1}, Code: nserr.BadQuotes,
						Msg: "unmatched double quote"}
				}
			case '\'':
				quoted = true
				i++
				closed := false
				for i < len(line) {
					if line[i] == '\'' {
						closed = true
						i++
						break
					}
					buf = append(buf, line[i])
					i++
				}
				if !closed {
					return nil, &Error{Pos: Pos{File: file, Line: lineNo, Col: start + 1}, Code: nserr.BadQuotes,
						Msg: "unmatched single quote"}
				}
			default:
				buf = append(buf, c)
				i++
			}
		}
		toks = append(toks, Token{Text: string(buf), Col: start + 1, Quoted: quoted})
	}
}

// Quote returns s as the writer emits it: bare when it is a plain word,
// otherwise double-quoted (docs §1.3, §2.4). Inside the quotes " is
// written \" and a backslash \\ only where the lexer would read it as an
// escape (before " or \, or at the end): other backslashes stay as the
// appliance writes them, so -customHeaders "X-a: b\r\n" keeps its spelling.
func Quote(s string) string { return quote(s, false) }

// quote is Quote, or always in double quotes when force.
func quote(s string, force bool) string {
	if s == "" {
		return `""`
	}
	plain := !force && s[0] != '-' && s[0] != '#'
	for i := 0; i < len(s) && plain; i++ {
		c := s[i]
		if isSpace(c) || c == '"' || c == '\'' || c == '\\' || c < 0x20 || c == 0x7f {
			plain = false
		}
	}
	if plain {
		return s
	}
	b := make([]byte, 0, len(s)+2)
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '"':
			b = append(b, '\\')
		case s[i] == '\\' && (i+1 == len(s) || s[i+1] == '"' || s[i+1] == '\\'):
			b = append(b, '\\')
		}
		b = append(b, s[i])
	}
	return string(append(b, '"'))
}
