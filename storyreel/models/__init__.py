"""What model backends share: language-model clients and structured output, the diffusion
pipeline loader, warm model workers, memory peaks and tiny offline test models."""
