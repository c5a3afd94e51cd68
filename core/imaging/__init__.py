"""The imaging toolkit every renderer shares: checking, encoding and drawing images."""
