// Package dnstest is a test kit: DNS clients that send real packets to a
// listener, and helpers to compare answers. Imported by tests only.
package dnstest
