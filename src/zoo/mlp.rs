//! A stack of fully connected layers (`y = x·Wᵀ + b`) with ReLU between them, as used by DLRM's bottom and top
//! MLPs and NeuMF's MLP tower.
//!
//! Initialisation is chosen by the model: DLRM draws weights from N(0, √(2/(fan_in + fan_out))) and biases from
//! N(0, √(1/fan_out)) (Naumov et al., 2019, reference implementation); PyTorch's `nn.Linear` default, which
//! RecBole's NeuMF keeps, draws both from U(−1/√fan_in, 1/√fan_in).

use tch::nn::{Init, Path};
use tch::Tensor;

/// How the layers' variables are initialised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MlpInit {
    /// DLRM's normal initialisation.
    Dlrm,
    /// PyTorch `nn.Linear`'s default uniform initialisation.
    TorchDefault,
}

/// When ReLU is applied after a layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    /// After every layer, the last included (DLRM's bottom MLP, NeuMF's tower).
    Every,
    /// After every layer except the last, which emits raw logits (DLRM's top MLP).
    AllButLast,
}

/// One fully connected layer.
#[derive(Debug)]
struct Layer {
    weight: Tensor,
    bias: Tensor,
}

/// A multi-layer perceptron.
#[derive(Debug)]
pub struct Mlp {
    layers: Vec<Layer>,
    activation: Activation,
    dropout: f64,
}

impl Mlp {
    /// Layers `widths[i] → widths[i+1]`, variables `<path>/<i>/weight` and `<path>/<i>/bias`. `dropout` is the
    /// probability applied to each layer's input in training mode (RecBole's `MLPLayers` order), 0 for none.
    pub fn new(path: &Path, widths: &[u32], init: MlpInit, activation: Activation, dropout: f64) -> Mlp {
        let layers = widths
            .windows(2)
            .enumerate()
            .map(|(i, pair)| {
                let (fan_in, fan_out) = (i64::from(pair[0]), i64::from(pair[1]));
                let (w_init, b_init) = match init {
                    MlpInit::Dlrm => (
                        Init::Randn { mean: 0.0, stdev: (2.0 / (fan_in + fan_out) as f64).sqrt() },
                        Init::Randn { mean: 0.0, stdev: (1.0 / fan_out as f64).sqrt() },
                    ),
                    MlpInit::TorchDefault => {
                        let bound = 1.0 / (fan_in as f64).sqrt();
                        (Init::Uniform { lo: -bound, up: bound }, Init::Uniform { lo: -bound, up: bound })
                    }
                };
                let layer = path.sub(i.to_string());
                Layer {
                    weight: layer.var("weight", &[fan_out, fan_in], w_init),
                    bias: layer.var("bias", &[fan_out], b_init),
                }
            })
            .collect();
        Mlp { layers, activation, dropout }
    }

    /// Applies the stack to `[B, widths[0]]`, giving `[B, widths.last]`; dropout only when `train`.
    pub fn forward_t(&self, input: &Tensor, train: bool) -> Tensor {
        let last = self.layers.len().saturating_sub(1);
        let mut x = input.shallow_clone();
        for (i, layer) in self.layers.iter().enumerate() {
            if self.dropout > 0.0 {
                x = x.dropout(self.dropout, train);
            }
            x = x.linear(&layer.weight, Some(&layer.bias));
            if i < last || self.activation == Activation::Every {
                x = x.relu();
            }
        }
        x
    }

    /// Number of layers.
    pub fn depth(&self) -> usize {
        self.layers.len()
    }
}
