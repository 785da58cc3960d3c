// The feature router's classifier: multinomial logistic regression with L2 on standardised
// features, calibrated by one temperature fitted on cross-validated held-out logits, and its
// binary blob (checksummed) for the catalog.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace meswitch::router {

struct ClassifierOptions {
    double l2 = 1e-2;  // penalty λ·‖W‖² / 2 per example-averaged loss
    int max_iterations = 1000;
    double gradient_tolerance = 1e-6;
    int folds = 5;  // cross-validation folds for the temperature (capped by class sizes)
};

class Classifier {
public:
    Classifier() = default;

    // features: one row per example (all the same length); labels in [0, classes).
    // Every class needs at least one example. Throws Error(invalid_argument) otherwise.
    static Classifier train(const std::vector<std::vector<float>>& features,
                            const std::vector<int>& labels, int classes,
                            const ClassifierOptions& options = {});

    int classes() const { return classes_; }
    std::size_t dim() const { return mean_.size(); }
    double temperature() const { return temperature_; }

    // Uncalibrated logits (classes values). Throws Error(invalid_argument) on a wrong length.
    std::vector<double> logits(std::span<const float> features) const;
    // Calibrated probabilities: softmax(logits / temperature); sums to 1.
    std::vector<double> probabilities(std::span<const float> features) const;

    // Little-endian blob: magic "MSRC", format, classes, dim, temperature, mean, inv_std,
    // weights, biases, then an XXH64 of everything before it.
    std::vector<std::uint8_t> serialize() const;
    // Throws Error(format) saying what is wrong (size, magic, version, checksum, non-finite).
    static Classifier deserialize(std::span<const std::uint8_t> blob);

private:
    int classes_ = 0;
    std::vector<double> mean_, inv_std_;  // standardisation
    std::vector<double> weights_;         // classes × dim, row-major
    std::vector<double> biases_;          // classes
    double temperature_ = 1;
};

// Softmax of values / temperature (numerically stable).
std::vector<double> softmax(std::span<const double> values, double temperature = 1);

}  // namespace meswitch::router
