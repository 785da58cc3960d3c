// The built-in calibration text: a small mix of registers (stories, arithmetic, one-line
// Python, reading-comprehension Q&A, instructions) so that every linear layer sees varied
// inputs when the user gives no calibration file and the expert's domain has no examples.
#include "delta/pipeline/calibration.h"

namespace meswitch::delta {

const std::vector<std::string>& builtin_calibration_lines() {
    static const std::vector<std::string> lines = {
        "Once upon a time, there was a little girl named Lily. She loved to play in the park.",
        "One day, a big dog ran to the tree and barked at the bird. The bird flew away.",
        "Tom had a red ball. He threw it to his friend Sam, and they laughed together.",
        "The sun was warm and the sky was blue. Mom said, \"Let's go to the beach!\"",
        "Ben was sad because his toy was broken. His dad fixed it and Ben smiled.",
        "The little cat was hungry. It found a fish in the kitchen and ate it quickly.",
        "Anna wanted to fly like a bird, so she made wings out of paper and ran fast.",
        "At night the stars came out. The owl looked at the moon and said hello.",
        "Q: 12+7=? A: 19",
        "Q: 45-18=? A: 27",
        "Q: 6*8=? A: 48",
        "Q: 81/9=? A: 9",
        "Q: Sara has 5 apples and buys 3 more. How many apples does she have? A: 8",
        "Q: A box holds 4 rows of 6 eggs. How many eggs are in the box? A: 24",
        "Q: What is 100 minus 37? A: 63",
        "Compute 3 * (4 + 5) - 2 = 25.",
        "def add(a, b): return a + b",
        "def is_even(n): return n % 2 == 0",
        "squares = [x * x for x in range(10)]",
        "for i in range(3): print(i)",
        "counts = {w: len(w) for w in words}",
        "class Point: def __init__(self, x, y): self.x, self.y = x, y",
        "if total > limit: raise ValueError(\"too large\")",
        "names = sorted(set(n.lower() for n in names))",
        "Mia has a blue kite. Q: What color is Mia's kite? A: blue",
        "The farmer keeps three goats in the barn. Q: Where are the goats? A: in the barn",
        "Leo reads a book about trains every evening. Q: What does Leo read about? A: trains",
        "Q: What is the capital of France? A: Paris",
        "Q: How many legs does a spider have? A: eight",
        "Q: Which planet is known as the red planet? A: Mars",
        "Please summarize the following paragraph in one sentence.",
        "Translate to French: The weather is nice today.",
        "Write a short poem about the sea and the wind.",
        "The meeting is moved to Tuesday at 3 pm; bring the quarterly report.",
        "Water boils at 100 degrees Celsius at sea level.",
        "The quick brown fox jumps over the lazy dog.",
        "In 1969, astronauts walked on the Moon for the first time.",
        "Error: file not found (code 404). Please check the path and try again.",
        "Step 1: preheat the oven. Step 2: mix the flour and eggs. Step 3: bake.",
        "She asked, \"Why is the sky blue?\" and he said it is because of the light.",
        "x = [1, 2, 3]; y = sum(x) / len(x)",
        "Q: 9+15=? A: 24",
    };
    return lines;
}

}  // namespace meswitch::delta
