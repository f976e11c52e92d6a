"""keras-tuner searches over the keras_cnns networks' filter counts and dropout."""
