// Every op the addon exports, in one table (registered by addon.cpp). Each binding checks its arguments, builds
// the op's plain argument struct and dispatches to the CPU twin or the CUDA kernel.
#pragma once
#include <napi.h>

namespace splatcast::binding {

// hashgridLayout(config) -> { paramCount, outputDim, resolution[], entries[] }
Napi::Value hashgrid_layout(const Napi::CallbackInfo& info);
// triplaneHashgridForward(device, config, rowCounts, xyz[rows,3], tables[seg], out[rows,dim])
Napi::Value triplane_hashgrid_forward(const Napi::CallbackInfo& info);
// triplaneHashgridBackward(device, config, rowCounts, xyz[rows,3], tables[seg], gradOut[rows,dim],
//   gradTables[seg] (added to), gradXyz[rows,3]|null (overwritten))
Napi::Value triplane_hashgrid_backward(const Napi::CallbackInfo& info);
// mlpLayout(shape) -> { paramCount }
Napi::Value mlp_layout(const Napi::CallbackInfo& info);
// mlpForward(device, shape, rowCounts, input[rows,in], weights[seg], out[rows,out])
Napi::Value mlp_forward(const Napi::CallbackInfo& info);
// mlpBackward(device, shape, rowCounts, input[rows,in], weights[seg], gradOut[rows,out], gradWeights[seg] (added to),
//   gradInput[rows,in]|null (overwritten))
Napi::Value mlp_backward(const Napi::CallbackInfo& info);
// audioNetLayout({featureDim, window, codeDim}) -> { paramCount }
Napi::Value audio_net_layout(const Napi::CallbackInfo& info);
// audioNetForward(device, {featureDim, window, codeDim}, rowCounts, windows[rows,16,featureDim], weights[seg],
//   codes[rows,codeDim])
Napi::Value audio_net_forward(const Napi::CallbackInfo& info);
// audioNetBackward(device, {featureDim, window, codeDim}, rowCounts, windows, weights[seg], gradCodes[rows,codeDim],
//   gradWeights[seg] (added to), gradWindows[rows,16,featureDim]|null (overwritten))
Napi::Value audio_net_backward(const Napi::CallbackInfo& info);
// audioAttNetLayout({frames, codeDim}) -> { paramCount }
Napi::Value audio_att_net_layout(const Napi::CallbackInfo& info);
// audioAttNetForward(device, {frames, codeDim}, rowCounts, codes[rows,frames,codeDim], weights[seg], out[rows,codeDim])
Napi::Value audio_att_net_forward(const Napi::CallbackInfo& info);
// audioAttNetBackward(device, {frames, codeDim}, rowCounts, codes, weights[seg], gradOut[rows,codeDim],
//   gradWeights[seg] (added to), gradCodes[rows,frames,codeDim]|null (overwritten))
Napi::Value audio_att_net_backward(const Napi::CallbackInfo& info);
// faceMotionLayout(shapes) -> { gridDim, codeDim, expressionDim, outputDim, paramCounts{net} }
Napi::Value face_motion_layout(const Napi::CallbackInfo& info);
// faceMotionForward(device, shapes, rowCounts, h[rows,G], audio[B,C], expression[B,E], weights{net: [seg]},
//   out[rows,decoder.output])
Napi::Value face_motion_forward(const Napi::CallbackInfo& info);
// faceMotionBackward(device, shapes, rowCounts, h, audio, expression, weights{net: [seg]}, gradOut[rows,out],
//   gradWeights{net: [seg]} (added to), gradH[rows,G]|null, gradAudio[B,C]|null, gradExpression[B,E] (overwritten))
Napi::Value face_motion_backward(const Napi::CallbackInfo& info);
// mouthMotionLayout(shapes) -> { gridDim, codeDim, outputDim, paramCounts{net} }
Napi::Value mouth_motion_layout(const Napi::CallbackInfo& info);
// mouthMotionForward(device, shapes, rowCounts, h[rows,G], audio[B,C], hook[B,3], weights{net: [seg]}, out[rows,3])
Napi::Value mouth_motion_forward(const Napi::CallbackInfo& info);
// mouthMotionBackward(device, shapes, rowCounts, h, audio, hook, weights{net: [seg]}, gradOut[rows,3],
//   gradWeights{net: [seg]} (added to), gradH[rows,G]|null, gradAudio[B,C]|null, gradHook[B,3]|null (overwritten))
Napi::Value mouth_motion_backward(const Napi::CallbackInfo& info);
// gatherRows(device, rowCounts, sources[seg][n_s,C], out[rows,C])
Napi::Value gather_rows(const Napi::CallbackInfo& info);
// gatherRowsBackward(device, rowCounts, gradOut[rows,C], gradSources[seg][n_s,C] (added to))
Napi::Value gather_rows_backward(const Napi::CallbackInfo& info);
// alignerApply(device, rowCounts, means[seg][n_s,3], raw[rows,6], query[rows,3], tau[rows,3])
Napi::Value aligner_apply(const Napi::CallbackInfo& info);
// alignerApplyBackward(device, rowCounts, raw[rows,6], gradQuery[rows,3]|null, gradTau[rows,3]|null,
//   gradRaw[rows,6] (overwritten), gradMeans[seg][n_s,3]|null (added to))
Napi::Value aligner_apply_backward(const Napi::CallbackInfo& info);
// deformGaussians(device, rowCounts, means[seg], rotations[seg], scales[seg], deltas[rows,stride], tau|null,
//   {xyzColumn, rotationColumn, scaleColumn, displacementScale}, outMeans, outRotations, outScales, outDisplacement)
Napi::Value deform_gaussians(const Napi::CallbackInfo& info);
// deformGaussiansBackward(device, rowCounts, rotations[seg], scales[seg], deltas[rows,stride], tau|null, options,
//   gradMeans[rows,3], gradRotations|null, gradScales|null, gradDisplacement|null, gradDeltas[rows,stride] and
//   gradTau|null (overwritten), gradBaseMeans[seg]|null, gradBaseRotations[seg]|null, gradBaseScales[seg]|null
//   (added to))
Napi::Value deform_gaussians_backward(const Napi::CallbackInfo& info);
// hookFeatures(device, rowCounts, displacement[rows,3], topK, out[B,3])
Napi::Value hook_features(const Napi::CallbackInfo& info);
// hookFeaturesBackward(device, rowCounts, displacement[rows,3], topK, gradOut[B,3], gradDisplacement[rows,3]
//   (overwritten))
Napi::Value hook_features_backward(const Napi::CallbackInfo& info);
// composite(device, faceRgb[B,H,W,3], faceAlpha[B,H,W], mouthRgb, mouthAlpha, backgrounds[B] u8[H,W,3],
//   dilateRadius, scratch[B,H,W], out[B,H,W,3])
Napi::Value composite(const Napi::CallbackInfo& info);
// compositeBackward(device, faceRgb, faceAlpha, mouthRgb, mouthAlpha, backgrounds[B], dilateRadius, gradOut[B,H,W,3],
//   scratch[B,H,W], argScratch i32[B,H,W], gradFaceRgb, gradFaceAlpha, gradMouthRgb, gradMouthAlpha (overwritten))
Napi::Value composite_backward(const Napi::CallbackInfo& info);
// l1Loss(device, image[B,H,W,3], target[B,H,W,3], mask[B,H,W]|null, weight, loss[B] (written),
//   gradImage[B,H,W,3]|null (weight * dL/d image added))
Napi::Value l1_loss(const Napi::CallbackInfo& info);
// dssimLoss(device, image, target, mask|null, weight, loss[B], gradImage|null, workspace[8,B,H,W,3]): as l1Loss
Napi::Value dssim_loss(const Napi::CallbackInfo& info);
// rgbToI420(device, rgb[B,H,W,3], fullRange, out u8[B,H*W*3/2])
Napi::Value rgb_to_i420(const Napi::CallbackInfo& info);
// new RasterWorkspace(device): growable rasterizer scratch memory; workspace.forward(options, rowCounts,
//   means[rows,3], rotations[rows,4], scales[rows,3], opacities[seg], sh[seg], cameras[B,20], rgb[B,H,W,3],
//   alpha[B,H,W], depth[B,H,W]|null, train?) -> intersections; workspace.backward(means, rotations, scales,
//   opacities[seg], sh[seg], cameras, dRgb[B,H,W,3], dAlpha[B,H,W], dDepth|null, dMeans[rows,3],
//   dRotations[rows,4], dScales[rows,3], dOpacities[rows], dSh[rows,K,3], means2dGradNorm[rows]|null,
//   radii[rows]|null); workspace.reservedBytes; workspace.dispose()
Napi::Function raster_workspace_class(Napi::Env env);
// adamStep(device, params[n], grads[n], m[n], v[n], {lr, beta1, beta2, eps, weightDecay, gradScale, step})
Napi::Value adam_step(const Napi::CallbackInfo& info);
// densifyStats(device, gradNorm[n], radii[n], accum[n], count[n], maxRadii[n]): where radii > 0, accum += gradNorm,
//   count += 1, maxRadii = max(maxRadii, radii)
Napi::Value densify_stats(const Napi::CallbackInfo& info);
// contrastLoss(device, a[n,>=3], b[n,>=3], weight, loss[1] (written), gradA|null, gradB|null (added)): the
//   Negative Contrast Loss weight / n * sum max(0, a_i . b_i) over the first three columns
Napi::Value contrast_loss(const Napi::CallbackInfo& info);
// geometryLoss(device, depth[1,H,W], alpha[1,H,W], prior[1,H,W,4], {fx, fy, cx, cy, weightDepth, weightNormal},
//   workspace f32[16], loss[2] (written), gradDepth[1,H,W]|null, gradAlpha[1,H,W] (added)): ops/geometry_loss.h
Napi::Value geometry_loss(const Napi::CallbackInfo& info);
// axpy(device, alpha, x[n], y[n]): y += alpha * x
Napi::Value axpy(const Napi::CallbackInfo& info);
// squaredNorm(device, x[n]) -> sum of squares (a number; waits for the GPU)
Napi::Value squared_norm(const Napi::CallbackInfo& info);

}  // namespace splatcast::binding
