#!/bin/sh
# Regenerates the TLS fixtures of the gauth test kit (TestServer, Tls::kOn):
#
#   ca.pem        a test CA, the trust anchor clients pass as their CA bundle
#   server.pem    the server certificate for localhost (SAN DNS:localhost,
#                 IP:127.0.0.1), signed by ca.pem
#   server.key    its private key (unencrypted)
#   other-ca.pem  an unrelated CA that signed nothing here, for "TLS refused" tests
#
# Everything is EC P-256 and valid for 100 years, so the committed files never
# expire under the tests. The CA keys are thrown away: to change anything,
# rerun this script and commit all four outputs together.
#
# Usage: testing/tls/generate.sh   (writes next to itself; needs the openssl CLI)
set -eu

cd "$(dirname "$0")"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

days=36500

# A minimal config of our own, so the result does not depend on the system's openssl.cnf.
cat >"$work/openssl.cnf" <<'CNF'
[req]
distinguished_name = dn
prompt = no
[dn]
[ca_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[server_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
CNF

new_key() {
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"
}

# new_ca <key> <cert> <common name>
new_ca() {
  new_key "$1"
  openssl req -config "$work/openssl.cnf" -new -x509 -sha256 -days "$days" \
    -key "$1" -subj "/O=gauth tests/CN=$3" -extensions ca_ext -out "$2"
}

new_ca "$work/ca.key" ca.pem "gauth test CA"
new_ca "$work/other-ca.key" other-ca.pem "gauth unrelated test CA"

new_key server.key
openssl req -config "$work/openssl.cnf" -new -sha256 -key server.key \
  -subj "/O=gauth tests/CN=localhost" -out "$work/server.csr"
openssl x509 -req -sha256 -days "$days" -in "$work/server.csr" \
  -CA ca.pem -CAkey "$work/ca.key" -set_serial "0x$(openssl rand -hex 16)" \
  -extfile "$work/openssl.cnf" -extensions server_ext -out server.pem

openssl verify -CAfile ca.pem server.pem
