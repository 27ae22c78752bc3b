// InvokeModelWithResponseStream and ConverseStream on the wire: a started RuntimeStream
// (service/runtime_stream.h) becomes a 200 answer of Content-Type
// application/vnd.amazon.eventstream whose body is generated as the server sends it, each event
// framed by aws/event_stream.h. Errors before the stream starts are ordinary HTTP errors; an
// error after it started is an exception message in the stream (botocore raises it from the
// iterator). When the client goes away the server stops pulling and drops the body: that stops
// generation and frees the slot (StreamPump).
#pragma once

#include <memory>
#include <string>

#include "aws/rest_json.h"
#include "core/status.h"
#include "service/runtime_stream.h"

namespace lathe::bedrock {

// model_id: as the caller named it (Anthropic's message_start echoes it).
Result<aws::RestOutput> EventStreamAnswer(Result<std::unique_ptr<service::RuntimeStream>> started,
                                          const std::string& model_id);

// The stream union's member for an error inside a started stream: throttlingException,
// validationException, or modelStreamErrorException (the engine failed mid-generation), members
// botocore's bedrock-runtime model lists in both stream unions.
std::string StreamExceptionType(const Status& error);

}  // namespace lathe::bedrock
