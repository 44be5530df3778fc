// Package dnspolicy compiles the NetScaler policy expressions that DNS
// policies select views with (CLIENT.IP.SRC.IN_SUBNET(10.0.0.0/8),
// DNS.REQ.QUESTION.DOMAIN.ENDSWITH("corp.example"), && || ! and .NOT)
// into a tree evaluated per query without allocating. An expression it
// does not know is an error naming its column, never a silent mismatch.
package dnspolicy
