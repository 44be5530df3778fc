module github.com/gslbd/gslbd

go 1.26.8

require (
	github.com/google/go-cmp v0.7.0
	github.com/miekg/dns v1.1.73
	go.uber.org/goleak v1.3.0
	golang.org/x/sys v0.47.0
)

require (
	github.com/gosnmp/gosnmp v1.47.0 // indirect
	golang.org/x/net v0.57.0 // indirect
)
