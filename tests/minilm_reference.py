"""MiniLM's sentence vectors computed in the tests, independently of lib: mean over the real
tokens of the last hidden states, then L2-normalised (what sentence-transformers does)."""
import torch


def mean_pooled(minilm, texts: list[str], max_length: int = 128) -> torch.Tensor:
    """(len(texts), hidden_size) unit vectors."""
    encoded = minilm.tokenizer(texts, padding=True, truncation=True, max_length=max_length, return_tensors="pt")
    with torch.no_grad():
        states = minilm.model(**encoded).last_hidden_state  # (batch, seq, hidden)
    mask = encoded["attention_mask"][..., None].float()
    return torch.nn.functional.normalize((states * mask).sum(1) / mask.sum(1), dim=-1)
