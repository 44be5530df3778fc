// Command reload measures DNS answers while gslbd reloads its
// configuration: it queries a running gslbd at a fixed rate, first for a
// baseline, then while sending it SIGHUP at an interval, and prints the
// latency distribution and the queries lost in each phase. bench/config.sh
// runs it against a daemon serving a large appliance file.
//
//	reload -server 127.0.0.1:5300 -pid 1234 -names 'app%d.gslb.example.com' -count 2000
package main

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/miekg/dns"
)

func main() {
	server := flag.String("server", "127.0.0.1:5300", "gslbd's DNS address")
	pid := flag.Int("pid", 0, "gslbd's process id (SIGHUP goes there)")
	names := flag.String("names", "app%d.gslb.example.com", "query names, %d replaced by 0..count-1")
	count := flag.Int("count", 1000, "how many names")
	rate := flag.Int("rate", 2000, "queries per second")
	workers := flag.Int("workers", 8, "concurrent clients, each waiting for its answer")
	baseline := flag.Duration("baseline", 10*time.Second, "time querying before any reload")
	reloads := flag.Int("reloads", 5, "SIGHUPs to send")
	every := flag.Duration("every", 4*time.Second, "time between SIGHUPs (and after the last)")
	flag.Parse()
	if *pid == 0 {
		fmt.Fprintln(os.Stderr, "reload: -pid is required")
		os.Exit(2)
	}
	base := run(*server, *names, *count, *rate, *workers, *baseline, nil)
	base.print("baseline")
	during := run(*server, *names, *count, *rate, *workers, time.Duration(*reloads)*(*every)+*every, func(stop <-chan struct{}) {
		t := time.NewTicker(*every)
		defer t.Stop()
		for range *reloads {
			syscall.Kill(*pid, syscall.SIGHUP)
			select {
			case <-t.C:
			case <-stop:
				return
			}
		}
	})
	during.print(fmt.Sprintf("%d reloads", *reloads))
	if during.lost > 0 || during.bad > 0 {
		os.Exit(1)
	}
}

type result struct {
	rtts      []time.Duration
	lost, bad int
}

func (r result) print(phase string) {
	slices.Sort(r.rtts)
	q := func(p float64) float64 {
		if len(r.rtts) == 0 {
			return 0
		}
		return float64(r.rtts[min(len(r.rtts)-1, int(p*float64(len(r.rtts))))].Microseconds()) / 1000
	}
	fmt.Printf("%-10s answered %d lost %d wrong %d  latency ms: p50 %.3f p99 %.3f p99.9 %.3f max %.3f\n",
		phase, len(r.rtts), r.lost, r.bad, q(0.5), q(0.99), q(0.999), q(1))
}

// run queries for d at rate, while side (if any) runs.
func run(server, names string, count, rate, workers int, d time.Duration, side func(stop <-chan struct{})) result {
	stop := make(chan struct{})
	if side != nil {
		go side(stop)
	}
	var mu sync.Mutex
	var all result
	var wg sync.WaitGroup
	end := time.Now().Add(d)
	for range workers {
		wg.Go(func() {
			c, err := net.Dial("udp", server)
			if err != nil {
				fmt.Fprintln(os.Stderr, "reload:", err)
				os.Exit(1)
			}
			defer c.Close()
			var r result
			t := time.NewTicker(time.Second * time.Duration(workers) / time.Duration(rate))
			defer t.Stop()
			buf := make([]byte, 1500)
			for time.Now().Before(end) {
				<-t.C
				m := new(dns.Msg)
				m.SetQuestion(fmt.Sprintf(names, rand.IntN(count))+".", dns.TypeA)
				wire, _ := m.Pack()
				start := time.Now()
				c.Write(wire)
				c.SetReadDeadline(start.Add(time.Second))
				for {
					n, err := c.Read(buf)
					if err != nil {
						r.lost++
						break
					}
					var a dns.Msg
					if a.Unpack(buf[:n]) != nil || a.Id != m.Id {
						continue // a late answer to an earlier query
					}
					if a.Rcode != dns.RcodeSuccess || len(a.Answer) == 0 {
						r.bad++
					}
					r.rtts = append(r.rtts, time.Since(start))
					break
				}
			}
			mu.Lock()
			all.rtts = append(all.rtts, r.rtts...)
			all.lost += r.lost
			all.bad += r.bad
			mu.Unlock()
		})
	}
	wg.Wait()
	close(stop)
	return all
}
