// Fine-tuning jobs in OpenAI's shapes over Bedrock's model customization jobs, as pure functions
// (tested without a server): an OpenAI create body in, a CreateModelCustomizationJob request out;
// a job as GetModelCustomizationJob answers it in, a fine_tuning.job out. So a job made through
// either API is one job: same id (ftjob-<Bedrock job id>), status, metrics and resulting model.
//
//   OpenAI                          Bedrock
//   id ftjob-<id>                   jobArn .../model-customization-job/<base>/<id>
//   model                           baseModelIdentifier (the ARN's <base> on the way back)
//   training_file, validation_file  trainingDataConfig.s3Uri, validationDataConfig.validators[0]
//                                   (the files bucket's s3://.../files/<file id>)
//   n_epochs, batch_size            hyperParameters.epochCount, batchSize
//   learning_rate_multiplier        hyperParameters.learningRate / 0.0001 (lathe's default rate)
//   seed                            hyperParameters.seed
//   suffix                          customModelName "ft-<suffix>-<random>" = fine_tuned_model
//   status validating_files/queued/running/succeeded/failed/cancelled
//                                   InProgress (by phase), Completed, Failed, Stopping/Stopped
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <variant>

#include "services/openai/errors.h"

namespace lathe::openai {

inline constexpr double kDefaultLearningRate = 0.0001;  // engine/hyperparameters.cc's learningRate

struct JobNames {
  std::string account;
  std::string output_uri;  // where the job's outputs go: s3://<files bucket>/fine-tuning/
  std::string role_arn;    // the role jobs made here name
  std::string random;      // 12 letters and digits: the job's and the model's names end with it
};

// A file id -> its s3:// URI, or an error (unknown file, wrong purpose).
using FileUri = std::function<std::variant<std::string, ApiError>(const std::string& file_id, const char* param)>;

// The CreateModelCustomizationJob request for an OpenAI create body.
std::variant<nlohmann::json, ApiError> BedrockJobRequest(std::string_view body, const JobNames& names,
                                                         const FileUri& file_uri);

// A Bedrock job (GetModelCustomizationJob's JSON) as a fine_tuning.job. `file_id`: the file id
// an s3:// URI holds (a file of the files bucket), else "" (the URI itself is shown).
nlohmann::json OpenAIJob(const nlohmann::json& bedrock_job, const std::string& account,
                         const std::function<std::string(const std::string& uri)>& file_id);

// "ftjob-<id>" for a Bedrock job ARN, and back ("" when it is not one).
std::string JobIdOf(const std::string& job_arn);
std::string BedrockJobId(const std::string& openai_id);

// OpenAI's status for a Bedrock job.
std::string JobStatus(const nlohmann::json& bedrock_job);

}  // namespace lathe::openai
