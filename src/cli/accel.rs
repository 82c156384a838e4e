//! `recpipe-dse accel eval`: evaluate one ranking stage on one accelerator configuration and print the
//! per-component cycles, latency (s), area (mm²), power (W) and energy (J) as a table or as JSON.
//!
//! `--model` takes a RecPipe model config (`.json`), our model YAML (`.yaml`/`.yml`) or a zoo preset name
//! (`rm-small`, …); `--hardware` takes a RecPipe `hardconf_*.json` or our accelerator YAML (`accel/*.yaml`).
//! Bad files and flags exit with code 2 and a message naming file, field and value.
//!
//! `recpipe-dse accel export --scalesim`: a stage's layers as SCALE-Sim input files ([`crate::accel::scalesim`]).
use super::{CliError, OutputFormat};
use crate::accel::{self, AccelConfig, Dataset, Division, Mode, ModelShape, StageRequest};
use anyhow::anyhow;
use std::fmt::Write as _;
use std::path::PathBuf;

/// Accelerator subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum AccelCommand {
    /// Evaluate one stage: per-component cycles, latency, area, power and energy.
    Eval(EvalArgs),
    /// Write a stage's fully connected layers as a SCALE-Sim topology (GEMM and convolution forms) and
    /// configuration, to cross-check the systolic-array cycles with SCALE-Sim.
    Export(ExportArgs),
}

/// `accel eval --format json`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AccelEvalSummary {
    /// The model as given.
    pub model: String,
    /// The hardware file as given.
    pub hardware: String,
    /// Data set.
    pub dataset: String,
    /// Items scored.
    pub items: u32,
    /// Items returned.
    pub top_n: u32,
    /// Cost-model mode.
    pub mode: Mode,
    /// Division semantics of the sort term.
    pub division: Division,
    /// Stage latency, s.
    pub latency_s: f64,
    /// Total cycles.
    pub cycles: f64,
    /// Cycles per component.
    pub components: std::collections::BTreeMap<String, f64>,
    /// Accelerator area, mm².
    pub area_mm2: f64,
    /// Accelerator power, W.
    pub power_w: f64,
    /// Energy per query, J.
    pub energy_j: f64,
    /// On-chip embedding hit rate.
    pub embedding_hit_rate: f64,
}

/// Arguments of `accel export`.
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// Write the SCALE-Sim files (the one export format).
    #[arg(long, required = true)]
    pub scalesim: bool,
    /// Model: RecPipe model JSON, model YAML, or a zoo preset name.
    #[arg(long)]
    pub model: PathBuf,
    /// Accelerator: RecPipe hardconf JSON or accelerator YAML (array size, SRAMs, bandwidth, clock).
    #[arg(long)]
    pub hardware: PathBuf,
    /// Items the stage scores (the GEMMs' M).
    #[arg(long)]
    pub items: u32,
    /// Folder receiving `<name>.gemm.csv`, `<name>.conv.csv`, `<name>.layout.csv` and `<name>.cfg` (created if
    /// needed).
    #[arg(long)]
    pub out: PathBuf,
    /// Run name and file stem (default: `<model stem>_<items>`).
    #[arg(long)]
    pub name: Option<String>,
    /// Summary on stdout: a table, or JSON (`AccelExportSummary`).
    #[arg(long, value_enum, default_value = "table")]
    pub format: OutputFormat,
}

/// `accel export --format json`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AccelExportSummary {
    /// Run name.
    pub name: String,
    /// Files written: GEMM topology, convolution topology, layout, configuration.
    pub files: Vec<String>,
    /// Array side.
    pub array_size: u32,
    /// The layers with our weight-stationary cycles.
    pub layers: Vec<crate::accel::scalesim::ExportedLayer>,
    /// Sum of our cycles over the layers (SCALE-Sim's "Total Cycles" are one less per layer).
    pub total_ws_cycles: u64,
}

/// Arguments of `accel eval`.
#[derive(Debug, clap::Args)]
pub struct EvalArgs {
    /// Model: RecPipe model JSON, model YAML, or a zoo preset name (rm-small, rm-med, rm-large, neumf-…).
    #[arg(long)]
    pub model: PathBuf,
    /// Accelerator: RecPipe hardconf JSON or accelerator YAML.
    #[arg(long)]
    pub hardware: PathBuf,
    /// Data set the stage serves.
    #[arg(long, value_enum)]
    pub dataset: Dataset,
    /// Items scored by the stage.
    #[arg(long)]
    pub items: u32,
    /// Items the stage returns.
    #[arg(long = "top-n")]
    pub top_n: u32,
    /// Cost-model mode.
    #[arg(long, value_enum, default_value = "rpaccel")]
    pub mode: Mode,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: OutputFormat,
    /// recpipe2021: integer division in the sort term, as in the Python-2 runs behind the original logs.
    #[arg(long)]
    pub python2_division: bool,
    /// rpaccel: on-chip embedding hit rate in [0, 1] instead of the capacity-derived one.
    #[arg(long)]
    pub hit_rate: Option<f64>,
    /// rpaccel: do not charge the host → accelerator transfer (a later stage on the same chip).
    #[arg(long)]
    pub no_input_pcie: bool,
    /// rpaccel: do not charge the accelerator → host transfer (an earlier stage on the same chip).
    #[arg(long)]
    pub no_output_pcie: bool,
}

/// Run an accelerator subcommand.
pub fn run(cmd: &AccelCommand) -> Result<(), CliError> {
    match cmd {
        AccelCommand::Eval(args) => {
            let text = eval(args)?;
            print!("{text}");
            Ok(())
        }
        AccelCommand::Export(args) => export(args),
    }
}

/// Write the SCALE-Sim files of one stage and print what was written.
pub fn export(args: &ExportArgs) -> Result<(), CliError> {
    let model = ModelShape::load(&args.model).map_err(CliError::input)?;
    let hw = AccelConfig::load(&args.hardware).map_err(CliError::input)?;
    if args.items == 0 {
        return Err(CliError::input(anyhow!("--items: must be positive, got 0")));
    }
    let name = match &args.name {
        Some(n) if !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') => n.clone(),
        Some(n) => {
            return Err(CliError::input(anyhow!(
                "--name: '{n}' must be non-empty letters, digits, '_' or '-' (it names files and SCALE-Sim's run)"
            )))
        }
        None => {
            let stem = args.model.file_stem().map_or("model".into(), |s| s.to_string_lossy().to_string());
            let clean: String =
                stem.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect();
            format!("{clean}_{}", args.items)
        }
    };
    let e = crate::accel::scalesim::export(&name, &model, &hw, args.items);
    std::fs::create_dir_all(&args.out).map_err(|err| {
        CliError::by_cause(anyhow::Error::new(err).context(format!("cannot create {}", args.out.display())))
    })?;
    let mut files = Vec::new();
    for (suffix, text) in
        [("gemm.csv", &e.gemm_csv), ("conv.csv", &e.conv_csv), ("layout.csv", &e.layout_csv), ("cfg", &e.config)]
    {
        let path = args.out.join(format!("{name}.{suffix}"));
        crate::durable::write_atomic(&path, text.as_bytes()).map_err(|err| {
            CliError::by_cause(anyhow::Error::new(err).context(format!("cannot write {}", path.display())))
        })?;
        files.push(path.display().to_string());
    }
    let summary = AccelExportSummary {
        name,
        files,
        array_size: hw.array_size,
        total_ws_cycles: e.layers.iter().map(|l| l.ws_cycles).sum(),
        layers: e.layers,
    };
    super::output::result(args.format, &summary, || {
        let mut s = format!("{:<6} {:>8} {:>8} {:>8} {:>14}\n", "layer", "M", "K", "N", "ws cycles");
        for (i, l) in summary.layers.iter().enumerate() {
            let _ = writeln!(s, "{:<6} {:>8} {:>8} {:>8} {:>14}", format!("fc{i}"), l.m, l.k, l.n, l.ws_cycles);
        }
        let _ = write!(
            s,
            "total  {:>42}\nwritten: {}\nrun: python3 -m scalesim.scale -c {} -t {} -l {} -i gemm -p <results folder>",
            summary.total_ws_cycles,
            summary.files.join(", "),
            summary.files[3],
            summary.files[0],
            summary.files[2]
        );
        s
    });
    Ok(())
}

/// Evaluate and render the whole output (nothing is printed on error).
pub fn eval(args: &EvalArgs) -> Result<String, CliError> {
    let model = ModelShape::load(&args.model).map_err(CliError::input)?;
    let hw = AccelConfig::load(&args.hardware).map_err(CliError::input)?;
    let ds = args.dataset;
    let model_name = args.model.display().to_string();
    if !model.fits_dataset(ds) {
        let names;
        let wanted = match &model {
            ModelShape::Dlrm(_) => "kaggle",
            ModelShape::NeuMf(_) => "movielens1m or movielens20m",
            ModelShape::Generic(g) => {
                names = g.dataset_names();
                &names
            }
        };
        return Err(CliError::input(anyhow!(
            "--dataset {}: model '{model_name}' is a {} model; use --dataset {wanted}",
            ds.name(),
            model.family()
        )));
    }
    if args.items == 0 {
        return Err(CliError::input(anyhow!("--items: must be positive, got 0")));
    }
    if let Some(h) = args.hit_rate {
        if !(0.0..=1.0).contains(&h) {
            return Err(CliError::input(anyhow!("--hit-rate: must be in [0, 1], got {h}")));
        }
    }
    let mode = args.mode;
    let mut req = StageRequest::new(ds, args.items, args.top_n, mode);
    if args.python2_division {
        req.division = Division::Python2;
    }
    req.options.hit_rate = args.hit_rate;
    req.options.input_pcie = !args.no_input_pcie;
    req.options.output_pcie = !args.no_output_pcie;
    let r = accel::evaluate_stage(&model, &hw, &req);
    let hw_name = args.hardware.display().to_string();
    Ok(match args.format {
        OutputFormat::Json => {
            let summary = AccelEvalSummary {
                model: model_name,
                hardware: hw_name,
                dataset: ds.name(),
                items: args.items,
                top_n: args.top_n,
                mode: r.mode,
                division: req.division,
                latency_s: r.latency_s,
                cycles: r.cycles,
                components: r.components.named().iter().map(|&(k, v)| (k.to_string(), v)).collect(),
                area_mm2: r.area_mm2,
                power_w: r.power_w,
                energy_j: r.energy_j,
                embedding_hit_rate: r.embedding_hit_rate,
            };
            let mut s = serde_json::to_string_pretty(&summary).map_err(CliError::runtime)?;
            s.push('\n');
            s
        }
        OutputFormat::Table => {
            let mut s = String::new();
            let mode_name = match mode {
                Mode::Rpaccel => "rpaccel",
                Mode::Recpipe2021 => "recpipe2021",
            };
            let _ = writeln!(s, "model     {model_name} ({})", model.family());
            let _ =
                writeln!(s, "hardware  {hw_name} ({}x{} array, {} MHz)", hw.array_size, hw.array_size, hw.clock_mhz);
            let _ = writeln!(s, "mode      {mode_name}");
            let _ = writeln!(s, "dataset   {}, items {}, top-n {}", ds.name(), args.items, args.top_n);
            let _ = writeln!(s);
            let _ = writeln!(s, "{:<20} {:>18}", "component", "cycles");
            for (name, c) in r.components.named() {
                let _ = writeln!(s, "{name:<20} {c:>18.3}");
            }
            let _ = writeln!(s, "{:<20} {:>18.3}", "total", r.cycles);
            let _ = writeln!(s);
            let _ = writeln!(s, "{:<20} {:>18.9e}", "latency_s", r.latency_s);
            let _ = writeln!(s, "{:<20} {:>18.4}", "area_mm2", r.area_mm2);
            let _ = writeln!(s, "{:<20} {:>18.4}", "power_w", r.power_w);
            let _ = writeln!(s, "{:<20} {:>18.6e}", "energy_j", r.energy_j);
            let _ = writeln!(s, "{:<20} {:>18.4}", "embedding_hit_rate", r.embedding_hit_rate);
            s
        }
    })
}
