// Command location measures loading a large location file (static
// proximity): it writes a NetScaler-format file of -ranges ranges (-locs
// distinct locations, about what a city-level GeoLite2 conversion has),
// loads it as gslbd does, and prints the load time, the heap and RSS it
// added, and the lookup cost.
//
//	go run ./bench/location -ranges 1000000
package main

import (
	"bufio"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/gslbd/gslbd/internal/location"
)

func rssKB() int {
	b, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	return 0
}

func main() {
	ranges := flag.Int("ranges", 1000000, "ranges in the file")
	locs := flag.Int("locs", 100000, "distinct locations")
	flag.Parse()
	dir, err := os.MkdirTemp("", "locbench")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "geo.csv")
	f, _ := os.Create(path)
	w := bufio.NewWriter(f)
	w.WriteString("NSGEO1.0\nStart\n")
	for i := range *ranges {
		a := 1<<24 + i*256
		l := i % *locs
		fmt.Fprintf(w, "%d.%d.%d.0,%d.%d.%d.255,NA,US,Region%d,City%d,ISP%d,Org%d,%.4f,%.4f\n",
			a>>24, a>>16&255, a>>8&255, a>>24, a>>16&255, a>>8&255, l%60, l, l%500, l%900, -120+float64(l%60), 30+float64(l%20))
	}
	w.Flush()
	f.Close()
	st, _ := os.Stat(path)

	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	rss0 := rssKB()
	start := time.Now()
	in, _ := os.Open(path)
	var b location.Builder
	stats, err := location.ReadFile(bufio.NewReaderSize(in, 1<<20), "netscaler", &b)
	if err != nil {
		panic(err)
	}
	db := b.Build()
	load := time.Since(start)
	in.Close()
	runtime.GC()
	runtime.ReadMemStats(&m1)
	rss1 := rssKB()

	addrs := make([]netip.Addr, 4096)
	for i := range addrs {
		a := 1<<24 + (i*7919%*ranges)*256 + 17
		addrs[i] = netip.AddrFrom4([4]byte{byte(a >> 24), byte(a >> 16), byte(a >> 8), byte(a)})
	}
	const lookups = 5000000
	t0 := time.Now()
	found := 0
	for i := range lookups {
		if _, _, ok := db.Lookup(addrs[i%len(addrs)]); ok {
			found++
		}
	}
	per := time.Since(t0) / lookups
	fmt.Printf("file: %d ranges, %d distinct locations, %.1f MB\n", *ranges, *locs, float64(st.Size())/1e6)
	fmt.Printf("load: %v (%d entries, %d errors)\n", load.Round(time.Millisecond), stats.Entries, stats.Errors)
	fmt.Printf("heap after load: +%.1f MB live; RSS +%.1f MB (peak during load included)\n", float64(m1.HeapAlloc-m0.HeapAlloc)/1e6, float64(rss1-rss0)/1e3)
	fmt.Printf("lookup: %v per address (%d of %d found)\n", per, found, lookups)
	runtime.KeepAlive(db)
}
