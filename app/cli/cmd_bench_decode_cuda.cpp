// meswitch bench decode --device cuda: the same benchmark on the GPU (tokens/s at batch 1
// and its fraction of the device's measured read bandwidth). Builds without CUDA too, where
// it says how to get the GPU path.
#include <filesystem>

#include "meswitch/error.h"
#include "meswitch/model.h"
#include "model/synthetic.h"

#ifdef MESWITCH_HAVE_CUDA
#include "backend/cuda/cuda_model.h"
#endif

namespace meswitch::cli {

BenchDecodeResult bench_decode_on_cuda(const ModelConfig* synthetic, DType dtype,
                                       const std::filesystem::path& folder, int prefill, int decode,
                                       int threads) {
#ifdef MESWITCH_HAVE_CUDA
    cuda::select_device(-1);  // "no CUDA device: <reason>" before building anything
    ModelOptions mo;
    mo.threads = threads;
    Model model =
        synthetic ? Model::from_tensors(
                        *synthetic, model::random_weights(*synthetic, dtype, 20240607, threads), mo)
                  : Model::load(folder, mo);
    return cuda::bench_decode_cuda(model, prefill, decode);
#else
    (void)synthetic, (void)dtype, (void)folder, (void)prefill, (void)decode, (void)threads;
    throw Error(ErrorKind::device,
                "--device cuda: this build has no CUDA support (configured with MESWITCH_CUDA=OFF "
                "or no CUDA toolkit found); install the NVIDIA CUDA Toolkit and rebuild with "
                "-DMESWITCH_CUDA=ON");
#endif
}

}  // namespace meswitch::cli
