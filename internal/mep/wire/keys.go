package wire

import (
	"crypto/hkdf"
	"crypto/sha256"
)

// Keys derives the plain port's two HMAC keys from the pre-shared key and
// the handshake: the payloads of HELLO and HELLO_ACK as sent. Binding the
// whole transcript (not only the nonces in it) means a change to any field
// of either message on the way gives the two ends different keys, and the
// first signed frame fails. One key per direction, so a frame reflected
// back to its sender does not verify.
//
// Deviation from docs/mep-design.md §7.9 (one key K from the nonces): the
// transcript and the two directions close a tampering and a reflection
// gap; the nonces are still inside the transcript.
func Keys(psk, hello, ack []byte) (dialerToAcceptor, acceptorToDialer []byte, err error) {
	h := sha256.New()
	h.Write(hello)
	h.Write(ack)
	salt := h.Sum(nil)
	if dialerToAcceptor, err = hkdf.Key(sha256.New, psk, salt, "gslb-mep v1 dialer", 32); err != nil {
		return nil, nil, err
	}
	if acceptorToDialer, err = hkdf.Key(sha256.New, psk, salt, "gslb-mep v1 acceptor", 32); err != nil {
		return nil, nil, err
	}
	return dialerToAcceptor, acceptorToDialer, nil
}
