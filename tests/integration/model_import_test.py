#!/usr/bin/env python3
"""Bedrock's Custom Model Import against a real `lathe serve`, with boto3 and the AWS CLI.

Run by ctest (tests/CMakeLists.txt) as:
  model_import_test.py --lathe build/lathe [--shared ../shared]
Exit 77 (skipped) when boto3 or the AWS CLI (`aws`) is missing.

Covers: a random-weight Llama folder written here imported from file:// and, uploaded with boto3,
from an s3:// prefix; each job waited for until Completed; invoke_model and converse on the
imported ARN; get/list (filters, paginators) and delete; a folder without a tokenizer failing with
a failureMessage that says so; bad requests answered at once (ValidationException,
ConflictException); DeleteImportedModel of a model a provisioned throughput serves
(ConflictException); `aws bedrock list-imported-models` / `get-model-import-job` /
`delete-imported-model`; `lathe models add --bedrock-id amazon.titan-text-express-v1` on the
running server's data directory, after which invoke_model on that id answers with the imported
model, `lathe models list` shows it, a fine-tuning job on that id trains it (the custom model
it makes answers), and `lathe models delete` deletes both; and, when ../shared has stories260K, its llama2.c golden greedy text after an import
through the API.
"""
import argparse
import json
import os
import random
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
from lathe_harness import (NO_RETRY, AwsCli, Server, expect_error, forget_caller_aws_settings,  # exits 77 without boto3
                           import_stories260k, require_aws_cli, wait_for)

import boto3

KEY_ID, SECRET = "LATHETESTKEY000016", "lathe-test-secret-import-0123456789abcdefg"
REGION = "us-east-1"
ROLE = "arn:aws:iam::123456789012:role/ImportRole"
BUCKET = "lathe-model-import-test"


def tensor_shapes(c):
    """The Hugging Face tensor names and shapes a Llama config implies (engine::ExpectedTensors)."""
    h, ff = c["hidden_size"], c["intermediate_size"]
    hd = h // c["num_attention_heads"]
    q, kv = c["num_attention_heads"] * hd, c["num_key_value_heads"] * hd
    out = {"model.embed_tokens.weight": [c["vocab_size"], h], "model.norm.weight": [h],
           "lm_head.weight": [c["vocab_size"], h]}
    for layer in range(c["num_hidden_layers"]):
        p = "model.layers.%d." % layer
        out.update({p + "input_layernorm.weight": [h], p + "post_attention_layernorm.weight": [h],
                    p + "self_attn.q_proj.weight": [q, h], p + "self_attn.k_proj.weight": [kv, h],
                    p + "self_attn.v_proj.weight": [kv, h], p + "self_attn.o_proj.weight": [h, q],
                    p + "mlp.gate_proj.weight": [ff, h], p + "mlp.up_proj.weight": [ff, h],
                    p + "mlp.down_proj.weight": [h, ff]})
    return out


def write_tiny_llama(folder, tokenizer=True):
    """A random-weight LlamaForCausalLM folder: config.json, model.safetensors (F32) and a
    handmade BPE tokenizer.json of 100 tokens (printable ASCII and a few merges)."""
    os.makedirs(folder, exist_ok=True)
    config = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 100, "hidden_size": 16,
              "intermediate_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
              "max_position_embeddings": 64, "rms_norm_eps": 1e-5, "bos_token_id": 0, "eos_token_id": 1,
              "torch_dtype": "float32"}
    rng = random.Random(7)
    header, data = {}, b""
    for name, shape in sorted(tensor_shapes(config).items()):
        n = 1
        for d in shape:
            n *= d
        values = [1.0] * n if name.endswith("norm.weight") else [rng.uniform(-0.1, 0.1) for _ in range(n)]
        blob = struct.pack("<%df" % n, *values)
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [len(data), len(data) + len(blob)]}
        data += blob
    head = json.dumps(header).encode()
    head += b" " * (-len(head) % 8)
    with open(os.path.join(folder, "model.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(head)) + head + data)
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(config, f)
    if tokenizer:
        vocab = {"<s>": 0, "</s>": 1}
        for ch in [chr(c) for c in range(0x20, 0x7f)] + ["\n"]:
            vocab[ch] = len(vocab)
        vocab["th"], vocab["e."] = len(vocab), len(vocab) + 1
        tok = {"version": "1.0", "normalizer": None, "pre_tokenizer": None, "decoder": None,
               "added_tokens": [{"id": 0, "content": "<s>", "special": True}, {"id": 1, "content": "</s>", "special": True}],
               "model": {"type": "BPE", "vocab": vocab, "merges": ["t h", "e ."]}}
        with open(os.path.join(folder, "tokenizer.json"), "w") as f:
            json.dump(tok, f)
    return folder


def import_and_wait(bedrock, job_name, model_name, uri):
    job = bedrock.create_model_import_job(jobName=job_name, importedModelName=model_name, roleArn=ROLE,
                                          modelDataSource={"s3DataSource": {"s3Uri": uri}})
    assert ":model-import-job/" in job["jobArn"], job
    return wait_for(lambda: bedrock.get_model_import_job(jobIdentifier=job["jobArn"]),
                    lambda j: j["status"] != "InProgress", 120, "import job " + job_name)


def invoke(runtime, model_id, text, max_tokens=4):
    body = json.dumps({"inputText": text, "textGenerationConfig": {"maxTokenCount": max_tokens, "temperature": 0}})
    out = runtime.invoke_model(modelId=model_id, body=body)
    return json.loads(out["body"].read())["results"][0]["outputText"]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--lathe", required=True)
    p.add_argument("--shared", default=os.path.join(os.path.dirname(os.path.realpath(__file__)), "../../../shared"))
    args = p.parse_args()
    require_aws_cli()
    args.lathe = os.path.abspath(args.lathe)
    forget_caller_aws_settings()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = os.path.realpath(tmp)
        files = os.path.join(tmp, "files")
        llama = write_tiny_llama(os.path.join(files, "tiny-llama"))
        data_dir = os.path.join(tmp, "data")
        with Server(args.lathe, data_dir, keys=(KEY_ID, SECRET), config={"fileRoots": [files]}).start() as server:
            session = boto3.session.Session(aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET, region_name=REGION)
            bedrock = session.client("bedrock", endpoint_url=server.url, config=NO_RETRY)
            runtime = session.client("bedrock-runtime", endpoint_url=server.url, config=NO_RETRY)
            s3 = session.client("s3", endpoint_url=server.url, config=NO_RETRY)
            cli = AwsCli(os.path.join(tmp, "aws-home"), server.url, (KEY_ID, SECRET), REGION, cwd=tmp)

            # 1. From a file:// folder.
            local = import_and_wait(bedrock, "import-local", "tiny-local", "file://" + llama)
            assert local["status"] == "Completed", local
            local_arn = local["importedModelArn"]
            assert ":imported-model/" in local_arn and local_arn.startswith("arn:aws:bedrock:us-east-1:"), local_arn
            model = bedrock.get_imported_model(modelIdentifier=local_arn)
            assert model["modelName"] == "tiny-local" and model["modelArchitecture"] == "llama", model
            assert model["jobArn"] == local["jobArn"], model
            assert isinstance(invoke(runtime, local_arn, "the cat"), str)
            converse = runtime.converse(modelId=local_arn, messages=[{"role": "user", "content": [{"text": "hi"}]}],
                                        inferenceConfig={"maxTokens": 3})
            assert converse["output"]["message"]["role"] == "assistant", converse

            # 2. From an s3:// prefix uploaded with boto3.
            s3.create_bucket(Bucket=BUCKET)
            for name in os.listdir(llama):
                s3.upload_file(os.path.join(llama, name), BUCKET, "models/tiny/" + name)
            remote = import_and_wait(bedrock, "import-s3", "tiny-s3", "s3://%s/models/tiny/" % BUCKET)
            assert remote["status"] == "Completed", remote
            assert invoke(runtime, remote["importedModelArn"], "a b") is not None
            missing = import_and_wait(bedrock, "import-s3-missing", "tiny-missing", "s3://%s/models/none/" % BUCKET)
            assert missing["status"] == "Failed" and "config.json is missing" in missing["failureMessage"], missing

            # 3. A folder without a tokenizer fails, saying so.
            broken = write_tiny_llama(os.path.join(files, "no-tokenizer"), tokenizer=False)
            failed = import_and_wait(bedrock, "import-broken", "broken", "file://" + broken)
            assert failed["status"] == "Failed" and "no tokenizer" in failed["failureMessage"], failed

            # 4. Bad requests, answered at once.
            expect_error("ValidationException", 400, bedrock.create_model_import_job, jobName="bad-name",
                         importedModelName="../escape", roleArn=ROLE,
                         modelDataSource={"s3DataSource": {"s3Uri": "file://" + llama}})
            expect_error("ValidationException", 400, bedrock.create_model_import_job, jobName="bad-uri",
                         importedModelName="bad-uri", roleArn=ROLE,
                         modelDataSource={"s3DataSource": {"s3Uri": "http://example.com/model"}})
            # vpcConfig is checked as botocore's VpcConfig (patterns are the server's to check).
            expect_error("ValidationException", 400, bedrock.create_model_import_job, jobName="bad-vpc",
                         importedModelName="bad-vpc", roleArn=ROLE,
                         modelDataSource={"s3DataSource": {"s3Uri": "file://" + llama}},
                         vpcConfig={"subnetIds": ["subnet 1"], "securityGroupIds": ["sg-1"]})
            expect_error("ConflictException", 400, bedrock.create_model_import_job, jobName="import-local",
                         importedModelName="another", roleArn=ROLE,
                         modelDataSource={"s3DataSource": {"s3Uri": "file://" + llama}})
            expect_error("ConflictException", 400, bedrock.create_model_import_job, jobName="another-job",
                         importedModelName="tiny-local", roleArn=ROLE,
                         modelDataSource={"s3DataSource": {"s3Uri": "file://" + llama}})
            expect_error("ResourceNotFoundException", 404, bedrock.get_imported_model,
                         modelIdentifier="arn:aws:bedrock:us-east-1:123456789012:imported-model/abcdefabcdef")
            expect_error("ValidationException", 400, bedrock.get_model_import_job, jobIdentifier="../../lathe.db")

            # 5. Lists: filters and paginators.
            done = bedrock.list_model_import_jobs(statusEquals="Completed", sortOrder="Ascending")
            assert [j["jobName"] for j in done["modelImportJobSummaries"]] == ["import-local", "import-s3"], done
            pages = bedrock.get_paginator("list_imported_models").paginate(PaginationConfig={"PageSize": 1})
            names = [m["modelName"] for page in pages for m in page["modelSummaries"]]
            assert sorted(names) == ["tiny-local", "tiny-s3"], names
            assert bedrock.list_imported_models(nameContains="s3")["modelSummaries"][0]["modelName"] == "tiny-s3"

            # 6. The AWS CLI.
            listed = json.loads(cli.run("bedrock", "list-imported-models").stdout)
            assert len(listed["modelSummaries"]) == 2, listed
            got = json.loads(cli.run("bedrock", "get-model-import-job", "--job-identifier", "import-s3").stdout)
            assert got["status"] == "Completed", got
            made = json.loads(cli.run("bedrock", "create-model-import-job", "--job-name", "import-cli",
                                      "--imported-model-name", "tiny-cli-job", "--role-arn", ROLE,
                                      "--model-data-source", "s3DataSource={s3Uri=file://%s}" % llama).stdout)
            cli_job = wait_for(lambda: bedrock.get_model_import_job(jobIdentifier=made["jobArn"]),
                               lambda j: j["status"] != "InProgress", 120, "the CLI's import job")
            assert cli_job["status"] == "Completed", cli_job
            cli.run("bedrock", "delete-imported-model", "--model-identifier", cli_job["importedModelArn"])

            # 7. Not deleted while a provisioned throughput serves it; then deleted.
            pt = bedrock.create_provisioned_model_throughput(modelUnits=1, provisionedModelName="pt-imported",
                                                             modelId=local_arn)
            wait_for(lambda: bedrock.get_provisioned_model_throughput(provisionedModelId=pt["provisionedModelArn"]),
                     lambda r: r["status"] != "Creating", 60, "provisioned throughput")
            expect_error("ConflictException", 400, bedrock.delete_imported_model, modelIdentifier=local_arn)
            bedrock.delete_provisioned_model_throughput(provisionedModelId=pt["provisionedModelArn"])
            bedrock.delete_imported_model(modelIdentifier=local_arn)
            expect_error("ResourceNotFoundException", 404, bedrock.get_imported_model, modelIdentifier=local_arn)
            cli.run("bedrock", "delete-imported-model", "--model-identifier", "tiny-s3")
            assert bedrock.list_imported_models()["modelSummaries"] == []

            # 8. `lathe models add` on the running server's data directory, mapping the tutorials' id.
            r = subprocess.run([args.lathe, "models", "add", "tiny-cli", llama, "--data-dir", data_dir,
                                "--bedrock-id", "amazon.titan-text-express-v1", "--json"],
                               capture_output=True, text=True, timeout=120)
            assert r.returncode == 0, r.stderr
            added = json.loads(r.stdout)
            assert ":imported-model/" in added["modelArn"], added
            # The default model was never built here: an answer is the imported model's.
            assert isinstance(invoke(runtime, "amazon.titan-text-express-v1", "the"), str)
            assert bedrock.get_imported_model(modelIdentifier="tiny-cli")["modelArn"] == added["modelArn"]
            env = dict(os.environ, AWS_ACCESS_KEY_ID=KEY_ID, AWS_SECRET_ACCESS_KEY=SECRET, AWS_DEFAULT_REGION=REGION)
            r = subprocess.run([args.lathe, "models", "list", "--endpoint", server.url, "--json"], env=env,
                               capture_output=True, text=True, timeout=60)
            assert r.returncode == 0, r.stderr
            assert [m["modelName"] for m in json.loads(r.stdout)["importedModels"]] == ["tiny-cli"], r.stdout
            r = subprocess.run([args.lathe, "models", "list", "--endpoint", server.url], env=env,
                               capture_output=True, text=True, timeout=60)
            assert "Imported models" in r.stdout and "tiny-cli" in r.stdout, r.stdout
            # The tutorials' fine-tuning call on that id trains the imported model, and the result serves.
            train = os.path.join(files, "train.jsonl")
            with open(train, "w") as f:
                for i in range(24):
                    f.write(json.dumps({"prompt": "Customer: how do I reset my PIN? (%d)\nAgent:" % i,
                                        "completion": " Open the app, choose Cards, then Reset PIN."}) + "\n")
            tuned = bedrock.create_model_customization_job(
                jobName="tune-imported", customModelName="tuned-imported", roleArn=ROLE,
                baseModelIdentifier="amazon.titan-text-express-v1", trainingDataConfig={"s3Uri": "file://" + train},
                outputDataConfig={"s3Uri": "file://" + os.path.join(files, "out")},
                hyperParameters={"epochCount": "1", "batchSize": "4", "learningRate": "0.003"})
            job = wait_for(lambda: bedrock.get_model_customization_job(jobIdentifier=tuned["jobArn"]),
                           lambda j: j["status"] not in ("InProgress", "Stopping"), 240, "fine-tuning job")
            assert job["status"] == "Completed", job
            assert job["baseModelArn"] == added["modelArn"], job
            assert isinstance(invoke(runtime, job["outputModelArn"], "Customer: how do I"), str)
            r = subprocess.run([args.lathe, "models", "delete", "tuned-imported", "--endpoint", server.url], env=env,
                               capture_output=True, text=True, timeout=60)
            assert r.returncode == 0, r.stderr
            r = subprocess.run([args.lathe, "models", "delete", "tiny-cli", "--endpoint", server.url], env=env,
                               capture_output=True, text=True, timeout=60)
            assert r.returncode == 0, r.stderr
            expect_error("ResourceNotFoundException", 404, bedrock.get_imported_model, modelIdentifier="tiny-cli")
            r = subprocess.run([args.lathe, "models", "delete", "tiny-cli", "--endpoint", server.url], env=env,
                               capture_output=True, text=True, timeout=60)
            assert r.returncode == 1 and "not found" in r.stderr, (r.returncode, r.stderr)
            r = subprocess.run([args.lathe, "models", "add", "bad", os.path.join(files, "no-tokenizer"),
                                "--data-dir", data_dir], capture_output=True, text=True, timeout=120)
            assert r.returncode == 1 and "no tokenizer" in r.stderr, (r.returncode, r.stderr)

            # 9. stories260K through the API: llama2.c's golden greedy text.
            stories = import_stories260k(args.lathe, args.shared, files)
            if stories is None:
                print("note: %s has no models/stories260K; its golden-text check is skipped" % args.shared)
            else:
                job = import_and_wait(bedrock, "import-stories", "stories260K", "file://" + stories)
                assert job["status"] == "Completed", job
                with open(os.path.join(args.shared, "models", "stories260K", "golden_greedy.txt")) as f:
                    golden = next(line.rstrip("\n") for line in f if line.startswith("Once upon a time"))
                text = "Once upon a time" + invoke(runtime, job["importedModelArn"], "Once upon a time", 60)
                assert text.startswith(golden), (text, golden)
    print("model_import: ok")


if __name__ == "__main__":
    main()
