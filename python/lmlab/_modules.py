"""torch.nn.Module wrappers of lmlab's C++ modules (the parameter-owning attention layers)."""
import torch


class _CppOwnedParameters(torch.nn.Module):
    """A module whose registered parameters are tensors a C++ module owns: assigning a new tensor to
    one of them would leave the C++ forward on the old one, so it is refused with the way to do it."""

    def __setattr__(self, name, value):
        params = self.__dict__.get("_parameters")
        if params is not None and name in params and value is not params[name]:
            raise ValueError(
                f"{name} is a parameter the C++ layer owns; assigning a new tensor would leave the layer "
                f"using the old one. Set its values instead: `with torch.no_grad(): layer.{name}.copy_(new)` "
                f"(or `layer.{name}.data = new`)")
        super().__setattr__(name, value)


class CppModule(_CppOwnedParameters):
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
                    owner.add_module(part, _CppOwnedParameters())
                owner = owner._modules[part]
            tensor.__class__ = torch.nn.Parameter  # the same tensor, now a Parameter (no copy)
            owner.register_parameter(leaf, tensor)
