// The unified first-order direction of P4 (arXiv 2402.01515, Deng, Song, Yang: "A unified framework
// for first-order methods: Reject / Random Vector Accelerating"):
//
//   d = g + 2 |<v, g>| / ||v||^2 v,
//
// with inner products global over all parameter tensors (a list of tensors is one vector). With
// v^ = v / ||v|| and theta the angle between v and g (NOTES.md P4, exact algebra):
//   <v, g> >= 0:  d = (I + 2 v^ v^T) g,  <d, g> = ||g||^2 (1 + 2 cos^2 theta)   (accelerating)
//   <v, g> <  0:  d = (I - 2 v^ v^T) g,  ||d|| = ||g||, <d, g> = ||g||^2 (1 - 2 cos^2 theta)
//                 (a Householder reflection of g: possibly a decelerating step)
// and d does not depend on ||v||. Inner products run in the tensors' dtype (BLAS dot per tensor,
// summed over tensors in float64): exact to float64 rounding for float64 parameters, to float32
// rounding for float32 ones, where the rules only need a sign or a step coefficient.
#pragma once

#include <vector>

#include <torch/torch.h>

namespace lmlab::optim {

using TensorList = std::vector<torch::Tensor>;

// sum_i <a_i, b_i> over matching tensors (b_i cast to a_i's dtype); UsageError when the lists
// differ in length or a pair in shape.
double global_dot(const TensorList& a, const TensorList& b);

// d = g + 2 |<v, g>| / ||v||^2 v (new tensors, g's dtypes); UsageError on mismatched lists or v = 0.
TensorList accelerated_direction(const TensorList& g, const TensorList& v);

}  // namespace lmlab::optim
