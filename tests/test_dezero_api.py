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
from dezero_lite import dataloaders, utils

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
        pytest.fail(
            f"{path} is missing ({e}); DeZero's dezero.{module} has: {DEZERO_NAMES[module]}"
        )
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
    mul = dz.Variable.__mul__
    del dz.Variable.__mul__
    try:
        with pytest.raises(TypeError):
            dz.Variable(np.array(2.0)) * 3
        dz.setup_variable()
        dz.setup_variable()  # twice changes nothing
        y = dz.Variable(np.array(2.0)) * 3
        assert y.data == 6.0 and isinstance(y.creator, F.Mul)
    finally:
        dz.Variable.__mul__ = mul


@pytest.mark.parametrize(
    "axis, shape",
    [
        (None, [1, 1, 1]),
        (1, [2, 1, 4]),
        ((0, 2), [1, 3, 1]),
        (-1, [2, 3, 1]),
        (np.int64(0), [1, 3, 4]),
    ],
)
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


BOOK_SCRIPT = """
import sys
import numpy as np
import dezero
from dezero import Variable, Model, Parameter, no_grad
from dezero.core import Function
import dezero.functions as F
import dezero.layers as L
from dezero.models import MLP
from dezero.optimizers import SGD
from dezero.datasets import Spiral
from dezero.dataloaders import DataLoader
from dezero.utils import sum_to
import dezero_lite

if dezero.is_simple_core:
    from dezero.core_simple import Variable
else:
    from dezero.core_simple import Variable as SimpleVariable
    assert SimpleVariable is Variable

class Square(Function):
    def forward(self, x):
        return x ** 2
    def backward(self, gy):
        return 2 * self.inputs[0] * gy

x = Variable(np.array(3.0))
y = Square()(x) + F.sin(x) * 0
y.backward()
print("grad", x.grad.data)

class TwoLayer(Model):
    def __init__(self):
        super().__init__()
        self.l1 = L.Linear(10)
        self.l2 = L.Linear(3)
    def __call__(self, x):
        return self.l2(F.sigmoid(self.l1(x)))

np.random.seed(0)
model, opt = TwoLayer(), None
opt = SGD(lr=1.0).setup(model)
losses = []
for epoch in range(30):
    total = 0.0
    for xb, tb in DataLoader(Spiral(), batch_size=100, shuffle=False):
        loss = F.softmax_cross_entropy(model(xb), tb)
        model.cleargrads(); loss.backward(); opt.update()
        total += float(loss.data)
    losses.append(total)
print("loss", round(losses[0], 3), round(losses[-1], 3))
print("same", dezero is dezero_lite, F is dezero_lite.functions, L is dezero_lite.layers,
      MLP is dezero_lite.models.MLP, sys.modules["dezero.models"] is dezero_lite.models)
print("argv", sys.argv[1:], __name__)
"""


def run_as_dezero(tmp_path, *args, env=None):
    import os

    script = tmp_path / "book_step.py"
    if not script.exists():
        script.write_text(BOOK_SCRIPT)
    return subprocess.run(
        [sys.executable, "-m", "dezero_lite.as_dezero", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ, **(env or {})),
    )


def test_a_script_written_for_dezero_runs_unchanged(tmp_path):
    proc = run_as_dezero(tmp_path, "book_step.py", "--epochs", "3")
    assert proc.returncode == 0, proc.stderr
    lines = dict(line.split(" ", 1) for line in proc.stdout.splitlines())
    assert lines["grad"] == "6.0"
    first, last = map(float, lines["loss"].split())
    assert last < 0.8 * first
    assert lines["same"] == "True True True True True"
    assert lines["argv"] == "['--epochs', '3'] __main__"
    assert "stands in" not in proc.stderr  # no real DeZero here, so nothing to say


def test_as_dezero_without_a_script_prints_its_usage(tmp_path):
    proc = run_as_dezero(tmp_path)
    assert proc.returncode == 2 and "usage: python -m dezero_lite.as_dezero" in proc.stderr
    proc = run_as_dezero(tmp_path, "nothere.py")
    assert proc.returncode == 2 and "no script 'nothere.py'" in proc.stderr


def test_a_real_dezero_is_never_shadowed_unless_asked(tmp_path):
    real = tmp_path / "site" / "dezero"
    real.mkdir(parents=True)
    (real / "__init__.py").write_text("WHO = 'the real one'\n")
    env = {"PYTHONPATH": str(tmp_path / "site")}
    proc = run_as_dezero(tmp_path, "book_step.py", env=env)
    assert proc.returncode == 2 and proc.stdout == ""
    assert "a real DeZero is installed" in proc.stderr and str(real) in proc.stderr
    assert "--force" in proc.stderr
    proc = run_as_dezero(tmp_path, "--force", "book_step.py", env=env)
    assert proc.returncode == 0, proc.stderr
    assert "stands in for the DeZero installed at" in proc.stderr
    assert "same True True True True True" in proc.stdout


def test_install_from_python_gives_the_same_modules_and_uninstall_undoes_it():
    code = textwrap.dedent("""
        import sys, warnings
        import dezero_lite
        dezero_lite.as_dezero.install()  # found without importing the submodule first
        ad = dezero_lite.as_dezero
        assert dezero_lite.core_simple is dezero_lite.core
        ad.install()  # twice is harmless
        import dezero, dezero.functions as F, dezero.utils
        from dezero.datasets import Spiral
        import dezero.core_simple
        assert dezero is dezero_lite and F is dezero_lite.functions and Spiral is dezero_lite.datasets.Spiral
        assert dezero.core_simple is dezero_lite.core
        assert dezero_lite.functions.__spec__.name == "dezero_lite.functions"
        try:
            import dezero.nothere
        except ModuleNotFoundError as e:
            assert e.name == "dezero.nothere" and "dezero_lite has no module" in str(e)
        else:
            raise AssertionError("imported a module that does not exist")
        ad.uninstall()
        assert not any(n == "dezero" or n.startswith("dezero.") for n in sys.modules)
        try:
            import dezero
        except ModuleNotFoundError:
            print("ok")
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout == "ok\n", proc.stderr


def test_install_refuses_to_hide_a_real_dezero_and_warns_when_forced(tmp_path):
    real = tmp_path / "dezero"
    real.mkdir()
    (real / "__init__.py").write_text("WHO = 'the real one'\n")
    code = textwrap.dedent("""
        import sys, warnings
        import dezero
        assert dezero.WHO == "the real one"
        import dezero_lite, dezero_lite.as_dezero as ad
        try:
            ad.install()
        except RuntimeError as e:
            assert "a real DeZero is installed" in str(e) and "force=True" in str(e)
        assert sys.modules["dezero"].WHO == "the real one"  # left alone
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            ad.install(force=True)
        assert "stands in for the DeZero installed" in str(caught[0].message)
        import dezero
        assert dezero is dezero_lite
        print("ok")
    """)
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0 and proc.stdout == "ok\n", proc.stderr
