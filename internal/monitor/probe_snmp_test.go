package monitor

import (
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/gosnmp/gosnmp"
)

// fakeSNMPAgent stands in for an SNMP agent (snmpd needs a system
// service): it answers GET requests of one SNMP version and community
// with the values given, by OID, and ignores every other request, as an
// agent does.
func fakeSNMPAgent(t *testing.T, version gosnmp.SnmpVersion, values map[string]gosnmp.SnmpPDU) netip.AddrPort {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { pc.Close(); <-done })
	go func() {
		defer close(done)
		buf := make([]byte, 65536)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			req, err := (&gosnmp.GoSNMP{Version: version}).SnmpDecodePacket(buf[:n])
			if err != nil || req.Version != version || req.Community != "public" || req.PDUType != gosnmp.GetRequest {
				continue
			}
			resp := &gosnmp.SnmpPacket{Version: version, Community: req.Community, PDUType: gosnmp.GetResponse, RequestID: req.RequestID}
			for _, v := range req.Variables {
				pdu, ok := values[strings.TrimPrefix(v.Name, ".")]
				if !ok {
					pdu = gosnmp.SnmpPDU{Type: gosnmp.NoSuchObject}
				}
				pdu.Name = v.Name
				resp.Variables = append(resp.Variables, pdu)
			}
			b, err := resp.MarshalMsg()
			if err == nil {
				pc.WriteTo(b, from)
			}
		}
	}()
	return netip.MustParseAddrPort(pc.LocalAddr().String())
}

const (
	oidValue = "1.3.6.1.4.1.99999.1.0"
	oidCPU   = "1.3.6.1.4.1.99999.2.0"
	oidMem   = "1.3.6.1.4.1.99999.3.0"
	oidText  = "1.3.6.1.4.1.99999.4.0"
)

func integer(n int) gosnmp.SnmpPDU { return gosnmp.SnmpPDU{Type: gosnmp.Integer, Value: n} }

// TestProbeSNMP: an SNMP monitor is UP while its OID's value is at or
// under -snmpThreshold, asked in the monitor's SNMP version; a LOAD
// monitor reports the weighted mean of each metric as a percentage of its
// threshold (threshold 0: left out; numbers sent as text are read), and
// says which metric reached its threshold.
func TestProbeSNMP(t *testing.T) {
	values := map[string]gosnmp.SnmpPDU{oidValue: integer(50), oidCPU: integer(40), oidMem: integer(100),
		oidText: {Type: gosnmp.OctetString, Value: []byte("12.6")}}
	v2 := fakeSNMPAgent(t, gosnmp.Version2c, values)
	v1 := fakeSNMPAgent(t, gosnmp.Version1, values)
	probe := func(conf, name string, dst netip.AddrPort) Result {
		t.Helper()
		return probeOnce(t, snapshotFrom(t, conf).Monitors[name], dst.String())
	}
	snmp := "add lb monitor s SNMP -snmpOID " + oidValue + " -snmpCommunity public -resptimeout 500 MSEC"
	expect(t, probe(snmp+" -snmpThreshold 50\n", "s", v2), true, "SNMP "+oidValue+" = 50")
	expect(t, probe(snmp+" -snmpThreshold 49\n", "s", v2), false, "SNMP "+oidValue+" = 50, above threshold 49")
	expect(t, probe(snmp+"\n", "s", v2), true, "= 50")
	expect(t, probe(snmp+" -snmpVersion V1\n", "s", v1), true, "= 50")
	expect(t, probe(snmp+" -snmpVersion V1\n", "s", v2), false, "timed out")
	expect(t, probe(snmp+"\n", "s", v1), false, "timed out")

	table := "add lb metricTable t\nbind lb metricTable t cpu " + oidCPU + "\nbind lb metricTable t mem " + oidMem +
		"\nbind lb metricTable t txt " + oidText + "\nadd lb monitor l LOAD -metricTable t -snmpCommunity public -resptimeout 500 MSEC\n"
	// cpu 40 of 80 is 50%, mem 100 of 400 is 25% weighing 3: (50 + 75) / 4.
	r := probe(table+"bind lb monitor l -metric cpu -metricThreshold 80\nbind lb monitor l -metric mem -metricThreshold 400 -metricWeight 3\n"+
		"bind lb monitor l -metric txt -metricThreshold 0\n", "l", v2)
	if !r.OK || !r.HasLoad || r.Load != 31 || r.Over || r.Reason != "load 31" {
		t.Errorf("LOAD: %+v, want load 31, not over", r)
	}
	r = probe(table+"bind lb monitor l -metric cpu -metricThreshold 40\nbind lb monitor l -metric txt -metricThreshold 13\n", "l", v2)
	if !r.OK || r.Load != 100 || !r.Over || r.Reason != "load 100; cpu = 40 reaches threshold 40" {
		t.Errorf("LOAD at the thresholds: %+v, want load 100, over, cpu named", r)
	}
}

// TestProbeLoadZero: a LOAD monitor whose metrics all have threshold 0
// (each left out) reports load 0, and an idle host's "0.00" sent as text
// is the number 0, not a value that cannot be read.
func TestProbeLoadZero(t *testing.T) {
	agent := fakeSNMPAgent(t, gosnmp.Version2c, map[string]gosnmp.SnmpPDU{oidCPU: integer(40),
		oidText: {Type: gosnmp.OctetString, Value: []byte("0.00")}})
	probe := func(conf string) Result {
		t.Helper()
		return probeOnce(t, snapshotFrom(t, conf).Monitors["l"], agent.String())
	}
	table := "add lb metricTable t\nbind lb metricTable t cpu " + oidCPU + "\nbind lb metricTable t txt " + oidText +
		"\nadd lb monitor l LOAD -metricTable t -snmpCommunity public -resptimeout 500 MSEC\n"
	if r := probe(table + "bind lb monitor l -metric cpu -metricThreshold 0\n"); !r.OK || !r.HasLoad || r.Load != 0 || r.Reason != "load 0" {
		t.Errorf("every metric left out: %+v, want load 0", r)
	}
	if r := probe(table + "bind lb monitor l -metric txt -metricThreshold 10\n"); !r.OK || !r.HasLoad || r.Load != 0 || r.Reason != "load 0" {
		t.Errorf(`"0.00": %+v, want load 0`, r)
	}
}
