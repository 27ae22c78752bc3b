// `lathe serve --tls-self-signed`: a local certificate authority and a server certificate signed
// by it for the listen address, made with OpenSSL (ECDSA P-256, SHA-256) under a folder of the
// data dir. Clients trust the CA (AWS_CA_BUNDLE, NODE_EXTRA_CA_CERTS, curl --cacert), never the
// server certificate itself, so a new server certificate (another address) needs no new trust.
#pragma once

#include <string>

#include "core/status.h"

namespace lathe::http {

struct SelfSignedFiles {
  std::string ca_cert;  // what clients trust
  std::string cert;     // the server's chain: its certificate, then the CA's
  std::string key;      // the server's key (mode 0600)
  bool created = false;
};

// Reuses what `dir` holds (the CA always; the server certificate when it was made for `host` and
// is valid for a month more), makes the rest. `host`: the listen address (IP or name); the
// certificate also names 127.0.0.1, ::1 and localhost.
Result<SelfSignedFiles> MakeSelfSigned(const std::string& dir, const std::string& host);

}  // namespace lathe::http
