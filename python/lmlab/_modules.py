"""torch.nn.Module wrappers of lmlab's C++ modules (the parameter-owning attention layers)."""
import torch


class CppModule(torch.nn.Module):
    """A torch.nn.Module whose parameters are the tensors a C++ lmlab module owns.

    The C++ module's parameter tensors themselves (not copies) are registered as torch.nn.Parameters
    under their C++ names ("mlp.0.weight" as submodules "mlp", "0"), so the C++ forward uses exactly
    what torch.optim updates, gradients accumulate where optimizers read them, and state_dict(),
    load_state_dict(), .double(), requires_grad_() work as for any module. (Not with
    torch.__future__.set_overwrite_module_params_on_conversion(True): conversions would then put new
    tensors in the Python module that the C++ layer never sees.)
    """

    def __init__(self, cpp):
        super().__init__()
        self._cpp = cpp
        for name, tensor in cpp.named_parameters():
            *path, leaf = name.split(".")
            owner = self
            for part in path:
                if part not in owner._modules:
                    owner.add_module(part, torch.nn.Module())
                owner = owner._modules[part]
            tensor.__class__ = torch.nn.Parameter  # the same tensor, now a Parameter (no copy)
            owner.register_parameter(leaf, tensor)
