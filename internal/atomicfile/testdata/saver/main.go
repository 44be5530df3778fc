// Command saver is the crash test's child: it saves versions of a file in
// a loop with atomicfile.Write until it is killed. Its content function
// must stay the same as the test's.
package main

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/gslbd/gslbd/internal/atomicfile"
)

func content(n int) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# version %d\n", n)
	for i := range 500 {
		fmt.Fprintf(&b, "add gslb vserver v%d_%d HTTP\n", n, i)
	}
	return b.Bytes()
}

func main() {
	p := os.Args[1]
	b, err := os.ReadFile(p)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	start, _ := strconv.Atoi(strings.TrimPrefix(string(line), "# version "))
	for n := start + 1; ; n++ {
		if err := atomicfile.Write(p, content(n), 0o600, 3); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(3)
		}
		if n == start+1 {
			os.Stdout.WriteString("saving\n") // the parent's cue: kill from now on
		}
	}
}
