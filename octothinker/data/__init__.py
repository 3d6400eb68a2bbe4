"""Mid-training data: read, quality-filter, dedup, decontaminate, format QA, mix, tokenize and pack."""
