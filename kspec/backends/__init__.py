"""What kspec turns a spec into: live Keras models, Python modules, save/load plans."""
