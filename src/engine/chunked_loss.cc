#include "engine/chunked_loss.h"

#include <ATen/autocast_mode.h>
#include <c10/core/impl/LocalDispatchKeySet.h>
#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>
#include <stdexcept>

namespace lathe::engine {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// scale * sum over rows i of cross_entropy(h[i] · wᵀ, labels[i]), chunk_rows rows at a time.
// With grad_h / grad_w, also the gradients of that value, from softmax - one_hot of each chunk.
at::Tensor LossAndGradients(const at::Tensor& h, const at::Tensor& w, const at::Tensor& labels, double scale,
                            int64_t chunk_rows, at::Tensor* grad_h, at::Tensor* grad_w) {
  // The types autocast would pick (bf16 matmuls, fp32 loss); autocast itself stays out of the way.
  const bool autocast = at::autocast::is_cpu_enabled() && h.scalar_type() == at::kFloat;
  c10::impl::ExcludeDispatchKeyGuard no_autocast(c10::DispatchKey::AutocastCPU);
  const at::ScalarType mm = autocast ? at::autocast::get_autocast_cpu_dtype() : h.scalar_type();
  const at::ScalarType acc = h.scalar_type();
  const at::Tensor wm = w.detach().to(mm);  // no copy when w is in mm already
  const at::Tensor hd = h.detach();
  const int64_t n = hd.size(0);
  at::Tensor loss = at::zeros({}, hd.options().dtype(acc));
  if (grad_h != nullptr) *grad_h = at::empty_like(hd);
  if (grad_w != nullptr) *grad_w = at::zeros(w.sizes(), w.options().dtype(acc));
  for (int64_t r0 = 0; r0 < n; r0 += chunk_rows) {
    const int64_t rows = std::min(chunk_rows, n - r0);
    const at::Tensor hc = hd.narrow(0, r0, rows).to(mm);
    const at::Tensor yc = labels.narrow(0, r0, rows).unsqueeze(1);
    at::Tensor logits = at::mm(hc, wm.t()).to(acc);  // [rows, vocab]
    const at::Tensor lse = at::logsumexp(logits, 1, true);
    loss.add_((lse - logits.gather(1, yc)).sum());
    if (grad_h == nullptr && grad_w == nullptr) continue;
    // d(loss)/d(logits) = scale * (softmax - one_hot), in place of the logits, which are let go
    // once cast for the matmuls.
    logits.sub_(lse).exp_();
    logits.scatter_add_(1, yc, at::full({rows, 1}, -1.0, logits.options()));
    logits.mul_(scale);
    const at::Tensor gm = logits.to(mm);
    logits = at::Tensor();
    if (grad_h != nullptr) grad_h->narrow(0, r0, rows).copy_(at::mm(gm, wm));
    if (grad_w != nullptr) grad_w->add_(at::mm(gm.t(), hc));
  }
  if (grad_w != nullptr) *grad_w = grad_w->to(w.scalar_type());
  return loss.mul_(scale);
}

struct ChunkedLinearCrossEntropy : torch::autograd::Function<ChunkedLinearCrossEntropy> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& h, const at::Tensor& w, const at::Tensor& labels,
                            double scale, int64_t chunk_rows) {
    at::Tensor grad_h, grad_w;
    at::Tensor loss = LossAndGradients(h, w, labels, scale, chunk_rows, h.requires_grad() ? &grad_h : nullptr,
                                       w.requires_grad() ? &grad_w : nullptr);
    if (grad_h.defined()) ctx->saved_data["grad_h"] = grad_h;
    if (grad_w.defined()) ctx->saved_data["grad_w"] = grad_w;
    ctx->saved_data["fresh"] = true;
    return loss;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_output) {
    if (!ctx->saved_data["fresh"].toBool())
      throw std::runtime_error("ChunkedNextTokenLoss: the backward pass can run only once per forward pass");
    ctx->saved_data["fresh"] = false;
    const at::Tensor& g = grad_output[0];
    const bool one = g.item<double>() == 1.0;
    // Handed over, not copied: the gradient accumulator can then keep the tensor as it is.
    auto take = [&](const char* key) {
      auto it = ctx->saved_data.find(key);
      if (it == ctx->saved_data.end()) return at::Tensor();
      at::Tensor t = it->second.toTensor();
      ctx->saved_data.erase(it);
      return one ? t : t.mul_(g);
    };
    at::Tensor grad_h = take("grad_h"), grad_w = take("grad_w");
    return {grad_h, grad_w, at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

}  // namespace

at::Tensor ChunkedNextTokenLoss(const at::Tensor& hidden, const at::Tensor& lm_head, const at::Tensor& tokens,
                                const at::Tensor& target, int64_t* count, int64_t chunk_elements) {
  const int64_t T = tokens.size(1), H = hidden.size(2), V = lm_head.size(0);
  // Position t predicts token t + 1: the rows whose next token is a target.
  const at::Tensor rows = target.narrow(1, 1, T - 1).reshape({-1}).nonzero().squeeze(1);
  *count = rows.size(0);
  const at::Tensor h = hidden.narrow(1, 0, T - 1).reshape({-1, H}).index_select(0, rows);
  const at::Tensor labels = tokens.narrow(1, 1, T - 1).reshape({-1}).index_select(0, rows);
  const double scale = 1.0 / static_cast<double>(std::max<int64_t>(*count, 1));
  if (chunk_elements <= 0) chunk_elements = lm_head.requires_grad() ? int64_t{16} << 20 : int64_t{4} << 20;
  const int64_t chunk_rows = std::max<int64_t>(1, chunk_elements / V);
  if (at::GradMode::is_enabled() && (h.requires_grad() || lm_head.requires_grad()))
    return ChunkedLinearCrossEntropy::apply(h, lm_head, labels, scale, chunk_rows);
  return LossAndGradients(h, lm_head, labels, scale, chunk_rows, nullptr, nullptr);
}

}  // namespace lathe::engine
