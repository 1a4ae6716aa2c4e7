"""YOLOv4 and YOLOv4-tiny in PyTorch, written for the side-by-side benchmark from the parameter names
and shapes in ../shared/reference/ (check_keys() compares them), with the same structure as the
Swift models in Sources/YOLO/Models/. Not part of the project's build: PyTorch lives in a virtual
environment outside it (see bench/README.md)."""
import torch
from torch import nn
import torch.nn.functional as F


class BasicConv(nn.Module):
    def __init__(self, i, o, k, stride=1, act="mish"):
        super().__init__()
        self.conv = nn.Conv2d(i, o, k, stride, k // 2, bias=False)
        self.bn = nn.BatchNorm2d(o)
        self.act = nn.Mish() if act == "mish" else nn.LeakyReLU(0.1)

    def forward(self, x):
        return self.act(self.bn(self.conv(x)))


class Resblock(nn.Module):
    def __init__(self, channels, hidden=None):
        super().__init__()
        hidden = hidden or channels
        self.block = nn.Sequential(BasicConv(channels, hidden, 1), BasicConv(hidden, channels, 3))

    def forward(self, x):
        return x + self.block(x)


class ResblockBody(nn.Module):
    def __init__(self, i, o, blocks, first):
        super().__init__()
        self.downsample_conv = BasicConv(i, o, 3, stride=2)
        inner = o if first else o // 2
        self.split_conv0 = BasicConv(o, inner, 1)
        self.split_conv1 = BasicConv(o, inner, 1)
        if first:
            self.blocks_conv = nn.Sequential(Resblock(o, o // 2), BasicConv(o, o, 1))
        else:
            self.blocks_conv = nn.Sequential(*[Resblock(inner) for _ in range(blocks)], BasicConv(inner, inner, 1))
        self.concat_conv = BasicConv(inner * 2, o, 1)

    def forward(self, x):
        x = self.downsample_conv(x)
        shortcut = self.split_conv0(x)
        main = self.blocks_conv(self.split_conv1(x))
        return self.concat_conv(torch.cat([main, shortcut], 1))


class CSPDarknet53(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = BasicConv(3, 32, 3)
        self.stages = nn.ModuleList([ResblockBody(32, 64, 1, True), ResblockBody(64, 128, 2, False),
                                     ResblockBody(128, 256, 8, False), ResblockBody(256, 512, 8, False),
                                     ResblockBody(512, 1024, 4, False)])

    def forward(self, x):
        x = self.stages[1](self.stages[0](self.conv1(x)))
        out3 = self.stages[2](x)
        out4 = self.stages[3](out3)
        return out3, out4, self.stages[4](out4)


def leaky(i, o, k, stride=1):
    return BasicConv(i, o, k, stride, act="leaky")


def three(f, i):
    return nn.Sequential(leaky(i, f[0], 1), leaky(f[0], f[1], 3), leaky(f[1], f[0], 1))


def five(f, i):
    return nn.Sequential(leaky(i, f[0], 1), leaky(f[0], f[1], 3), leaky(f[1], f[0], 1), leaky(f[0], f[1], 3), leaky(f[1], f[0], 1))


def head(hidden, out, i):
    return nn.Sequential(leaky(i, hidden, 3), nn.Conv2d(hidden, out, 1))


class Upsample(nn.Module):
    def __init__(self, i, o):
        super().__init__()
        self.upsample = nn.Sequential(leaky(i, o, 1), nn.Upsample(scale_factor=2, mode="nearest"))

    def forward(self, x):
        return self.upsample(x)


class SPP(nn.Module):
    def __init__(self):
        super().__init__()
        self.maxpools = nn.ModuleList([nn.MaxPool2d(k, 1, k // 2) for k in (13, 9, 5)])

    def forward(self, x):
        return torch.cat([p(x) for p in self.maxpools] + [x], 1)


class YOLOv4(nn.Module):
    def __init__(self, classes, anchors=3):
        super().__init__()
        out = anchors * (5 + classes)
        self.backbone = CSPDarknet53()
        self.conv1 = three((512, 1024), 1024)
        self.SPP = SPP()
        self.conv2 = three((512, 1024), 2048)
        self.upsample1 = Upsample(512, 256)
        self.conv_for_P4 = leaky(512, 256, 1)
        self.make_five_conv1 = five((256, 512), 512)
        self.upsample2 = Upsample(256, 128)
        self.conv_for_P3 = leaky(256, 128, 1)
        self.make_five_conv2 = five((128, 256), 256)
        self.yolo_head3 = head(256, out, 128)
        self.down_sample1 = leaky(128, 256, 3, stride=2)
        self.make_five_conv3 = five((256, 512), 512)
        self.yolo_head2 = head(512, out, 256)
        self.down_sample2 = leaky(256, 512, 3, stride=2)
        self.make_five_conv4 = five((512, 1024), 1024)
        self.yolo_head1 = head(1024, out, 512)

    def forward(self, x):
        x2, x1, x0 = self.backbone(x)
        p5 = self.conv2(self.SPP(self.conv1(x0)))
        p4 = self.make_five_conv1(torch.cat([self.conv_for_P4(x1), self.upsample1(p5)], 1))
        p3 = self.make_five_conv2(torch.cat([self.conv_for_P3(x2), self.upsample2(p4)], 1))
        p4 = self.make_five_conv3(torch.cat([self.down_sample1(p3), p4], 1))
        p5 = self.make_five_conv4(torch.cat([self.down_sample2(p4), p5], 1))
        return self.yolo_head1(p5), self.yolo_head2(p4), self.yolo_head3(p3)


class TinyResblockBody(nn.Module):
    def __init__(self, i, o):
        super().__init__()
        self.channels = o
        self.conv1 = leaky(i, o, 3)
        self.conv2 = leaky(o // 2, o // 2, 3)
        self.conv3 = leaky(o // 2, o // 2, 3)
        self.conv4 = leaky(o, o, 1)
        self.maxpool = nn.MaxPool2d(2, 2)

    def forward(self, x):
        route = self.conv1(x)
        half = self.conv2(route[:, self.channels // 2:])
        feat = self.conv4(torch.cat([self.conv3(half), half], 1))
        return self.maxpool(torch.cat([route, feat], 1)), feat


class CSPDarknet53Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = leaky(3, 32, 3, stride=2)
        self.conv2 = leaky(32, 64, 3, stride=2)
        self.resblock_body1 = TinyResblockBody(64, 64)
        self.resblock_body2 = TinyResblockBody(128, 128)
        self.resblock_body3 = TinyResblockBody(256, 256)
        self.conv3 = leaky(512, 512, 3)

    def forward(self, x):
        x = self.conv2(self.conv1(x))
        x = self.resblock_body1(x)[0]
        x = self.resblock_body2(x)[0]
        x, feat1 = self.resblock_body3(x)
        return feat1, self.conv3(x)


class YOLOv4Tiny(nn.Module):
    def __init__(self, classes, anchors=3):
        super().__init__()
        out = anchors * (5 + classes)
        self.backbone = CSPDarknet53Tiny()
        self.conv_for_P5 = leaky(512, 256, 1)
        self.yolo_headP5 = head(512, out, 256)
        self.upsample = Upsample(256, 128)
        self.yolo_headP4 = head(256, out, 384)

    def forward(self, x):
        feat1, feat2 = self.backbone(x)
        p5 = self.conv_for_P5(feat2)
        return self.yolo_headP5(p5), self.yolo_headP4(torch.cat([self.upsample(p5), feat1], 1))


def check_keys(model, path):
    """Every state-dict name and shape against a reference key list ('name (d0, d1, ...)' lines)."""
    expected = []
    for line in open(path):
        name, _, shape = line.strip().partition(" ")
        expected.append((name, tuple(int(d) for d in shape.strip("(),").split(",") if d.strip())))
    ours = [(k, tuple(v.shape)) for k, v in model.state_dict().items()]
    if ours != expected:
        bad = next(i for i, (a, b) in enumerate(zip(ours + [None] * len(expected), expected)) if a != b)
        raise SystemExit(f"{path}: key {bad} differs: ours {ours[bad] if bad < len(ours) else None}, reference {expected[bad]}")
    return len(ours)
