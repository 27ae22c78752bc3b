// The C callbacks H2Session gives nghttp2 (h2_session_callbacks.cc); private to the session's
// two files.
#pragma once

#include <nghttp2/nghttp2.h>

#include "http/h2_session.h"

namespace lathe::http {

struct H2Session::Callbacks {
  static int BeginHeaders(nghttp2_session* session, const nghttp2_frame* frame, void* user_data);
  static int OnHeader(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name, size_t namelen,
                      const uint8_t* value, size_t valuelen, uint8_t, void* user_data);
  static int FrameReceived(nghttp2_session*, const nghttp2_frame* frame, void* user_data);
  static int DataChunk(nghttp2_session* session, uint8_t, int32_t stream_id, const uint8_t* data, size_t len,
                       void* user_data);
  static int StreamClosed(nghttp2_session* session, int32_t stream_id, uint32_t, void* user_data);
  static int FrameSent(nghttp2_session* session, const nghttp2_frame* frame, void* user_data);
  // Sends what the worker has produced; defers (resumed by OnPosted) when it has not yet.
  static ssize_t ReadBody(nghttp2_session*, int32_t, uint8_t* buf, size_t length, uint32_t* data_flags,
                          nghttp2_data_source* source, void*);
};

}  // namespace lathe::http
