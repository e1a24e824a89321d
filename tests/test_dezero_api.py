"""DeZero's public API under DeZero's module paths, and running the book's code unchanged."""
import importlib
import importlib.util
import io
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import dezero_lite as dz
import dezero_lite.functions as F
from dezero_lite import as_dezero, dataloaders, utils

# DeZero 0.0.13's public names, module by module: what each module defines at top level
# (classes, functions, module-level values), not private names (a leading _) and not
# what a module merely imports for itself (utils' Variable, layers' F, ...). Kept on
# purpose: the package's own re-exports in __init__ and the ops that functions re-exports
# from core and functions_conv, since the book calls F.conv2d and F.add. Left out:
# cuda.cupy, which DeZero defines only when CuPy is installed.
DEZERO_NAMES = {
    "": """is_simple_core Variable Parameter Function using_config no_grad test_mode as_array
        as_variable setup_variable Config Layer Model Dataset DataLoader SeqDataLoader
        datasets dataloaders optimizers functions functions_conv layers utils cuda transforms""",
    "core": """Config using_config no_grad test_mode array_types Variable Parameter as_variable
        as_array Function Add add Mul mul Neg neg Sub sub rsub Div div rdiv Pow pow
        setup_variable""",
    "core_simple": """Config using_config no_grad Variable as_variable as_array Function Add add
        Mul mul Neg neg Sub sub rsub Div div rdiv Pow pow setup_variable""",
    "cuda": "gpu_enable get_array_module as_numpy as_cupy",
    "dataloaders": "pil_available DataLoader SeqDataLoader",
    "datasets": """Dataset get_spiral Spiral MNIST CIFAR10 CIFAR100 ImageNet SinCurve Shakespear
        load_cache_npz save_cache_npz""",
    "functions": """Sin sin Cos cos Tanh tanh Exp exp Log log Reshape reshape expand_dims flatten
        Sum sum SumTo sum_to BroadcastTo broadcast_to MatMul matmul Linear linear linear_simple
        Transpose transpose GetItem GetItemGrad get_item sigmoid_simple Sigmoid sigmoid ReLU
        relu softmax_simple Softmax softmax LogSoftmax log_softmax LeakyReLU leaky_relu
        mean_squared_error_simple MeanSquaredError mean_squared_error
        softmax_cross_entropy_simple SoftmaxCrossEntropy softmax_cross_entropy
        sigmoid_cross_entropy binary_cross_entropy accuracy embed_id dropout BatchNorm
        batch_nrom Max Min max min Clip clip
        conv2d deconv2d conv2d_simple im2col col2im pooling_simple pooling average_pooling
        add sub rsub mul div neg pow""",
    "functions_conv": """conv2d_simple pooling_simple Conv2d conv2d Deconv2d deconv2d Conv2DGradW
        Pooling Pooling2DGrad Pooling2DWithIndexes pooling AveragePooling average_pooling
        Im2col im2col Col2im col2im im2col_array col2im_array""",
    "layers": "Layer Linear Conv2d Deconv2d RNN LSTM EmbedID BatchNorm",
    "models": """Model Sequential MLP VGG16 ResNet ResNet152 ResNet101 ResNet50 BuildingBlock
        BottleneckA BottleneckB SqueezeNet""",
    "optimizers": """Optimizer WeightDecay ClipGrad FreezeParam SGD MomentumSGD AdaGrad AdaDelta
        Adam""",
    "transforms": """Compose Convert Resize CenterCrop ToArray ToPIL RandomHorizontalFlip Normalize
        Flatten AsType ToFloat ToInt""",
    "utils": """get_dot_graph plot_dot_graph sum_to reshape_sum_backward logsumexp
        max_backward_shape gradient_check numerical_grad array_equal array_allclose
        show_progress cache_dir get_file get_deconv_outsize get_conv_outsize pair""",
}


@pytest.mark.parametrize("module", sorted(DEZERO_NAMES), ids=lambda m: m or "dezero")
def test_every_public_name_of_dezero_exists_under_the_same_module_path(module):
    path = "dezero_lite" + ("." + module if module else "")
    try:
        mod = importlib.import_module(path)
    except ModuleNotFoundError as e:
        pytest.fail(f"{path} is missing ({e}); DeZero's dezero.{module} has: {DEZERO_NAMES[module]}")
    missing = [n for n in DEZERO_NAMES[module].split() if not hasattr(mod, n)]
    assert not missing, f"{path} lacks {len(missing)} of DeZero's names: {', '.join(missing)}"


def test_the_one_core_is_also_core_simple():
    import dezero_lite.core_simple as simple
    from dezero_lite import core
    assert simple is core and dz.is_simple_core is False
    from dezero_lite.core_simple import Variable
    assert Variable is dz.Variable
    assert core.add is F.add and core.Pow is F.Pow and core.setup_variable is dz.setup_variable
    assert isinstance(np.ones(2), core.array_types)


def test_setup_variable_binds_the_operators_again():
    del dz.Variable.__mul__
    with pytest.raises(TypeError):
        dz.Variable(np.array(2.0)) * 3
    dz.setup_variable()
    dz.setup_variable()  # twice changes nothing
    y = dz.Variable(np.array(2.0)) * 3
    assert y.data == 6.0 and isinstance(y.creator, F.Mul)


@pytest.mark.parametrize("axis, shape", [
    (None, [1, 1, 1]), (1, [2, 1, 4]), ((0, 2), [1, 3, 1]), (-1, [2, 3, 1]), (np.int64(0), [1, 3, 4])])
def test_max_backward_shape_keeps_the_reduced_axes_as_one(axis, shape):
    x = np.zeros((2, 3, 4))
    assert utils.max_backward_shape(x, axis) == shape
    assert np.zeros(shape).shape == np.max(x, axis=axis, keepdims=True).shape


def test_show_progress_draws_a_bar_like_urlretrieves_hook():
    out = io.StringIO()
    utils.show_progress(5, 10, 200, file=out)
    assert out.getvalue() == "\r[#######.......................] 25.00%"
    out = io.StringIO()
    utils.show_progress(30, 10, 200, file=out)  # the last block may run past the end
    assert out.getvalue().endswith("] 100.00%") and "." not in out.getvalue().split("]")[0]
    out = io.StringIO()
    utils.show_progress(3, 1_000_000, -1, file=out)  # size unknown
    assert out.getvalue() == "\r3.0 MB"


def test_pil_available_says_whether_pillow_is_installed():
    assert dataloaders.pil_available is (importlib.util.find_spec("PIL") is not None)
