"""The sheet side: the formula builder (from the campaign), the evaluator that gives every
formula cell its cached value, the shared style and the formula lint."""
