"""Step 09: a gate becomes a layer object with forward and backward.

Idea: a layer remembers what it needs during forward() so that backward(dout)
can return the gradients of its inputs. Two layers, multiply and add, price a
shopping basket (apples, oranges, tax) and backprop says how the price moves
with every number in it. Builds on step 03 (the local gradients of * and +)
and step 08 (a network as layers called in order, here with a way back).
"""


class MulLayer:
    def __init__(self):
        self.x = None
        self.y = None

    def forward(self, x, y):
        self.x, self.y = x, y
        return x * y

    def backward(self, dout):
        return dout * self.y, dout * self.x


class AddLayer:
    def forward(self, x, y):
        return x + y

    def backward(self, dout):
        return dout, dout


# Two apples at 100 each, tax 1.1.
apple, apple_num, tax = 100, 2, 1.1
mul_apple = MulLayer()
mul_tax = MulLayer()
apple_price = mul_apple.forward(apple, apple_num)
price = mul_tax.forward(apple_price, tax)
dapple_price, dtax = mul_tax.backward(1)
dapple, dapple_num = mul_apple.backward(dapple_price)
print(f"2 apples with tax: price = {price:.2f}")
print(f"  (float64 gives {price!r}: 1.1 is not exact in binary)")
print("  gradients of the price:")
print(f"    apple {dapple:.4g}, apple_num {dapple_num:.4g}, tax {dtax:.4g}")

assert price == 220.00000000000003  # 220 up to float64 rounding of 1.1
assert abs(dapple - 2.2) < 1e-12 and abs(dapple_num - 110) < 1e-12 and dtax == 200

# Two apples at 100 and three oranges at 150, tax 1.1.
orange, orange_num = 150, 3
mul_apple, mul_orange, add_fruit, mul_tax = MulLayer(), MulLayer(), AddLayer(), MulLayer()
apple_price = mul_apple.forward(apple, apple_num)
orange_price = mul_orange.forward(orange, orange_num)
fruit_price = add_fruit.forward(apple_price, orange_price)
price = mul_tax.forward(fruit_price, tax)

dfruit_price, dtax = mul_tax.backward(1)
dapple_price, dorange_price = add_fruit.backward(dfruit_price)
dorange, dorange_num = mul_orange.backward(dorange_price)
dapple, dapple_num = mul_apple.backward(dapple_price)
print(f"\n2 apples and 3 oranges with tax: price = {price:.2f}")
print("  gradients of the price:")
print(f"    apple {dapple:.4g}, apple_num {dapple_num:.4g}")
print(f"    orange {dorange:.4g}, orange_num {dorange_num:.4g}, tax {dtax:.4g}")

assert price == 715.0000000000001
assert abs(dapple_num - 110) < 1e-12
assert abs(dapple - 2.2) < 1e-12
assert abs(dorange - 3.3) < 1e-12
assert abs(dorange_num - 165) < 1e-12
assert dtax == 650
