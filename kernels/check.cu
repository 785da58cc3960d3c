#include "check.cuh"

namespace meswitch::kernels {

std::string describe_cuda_error(cudaError_t err, const char* stmt, const char* file, int line) {
    return std::string(stmt) + " failed at " + file + ":" + std::to_string(line) + ": " +
           cudaGetErrorName(err) + " (" + cudaGetErrorString(err) + ")";
}

}  // namespace meswitch::kernels
