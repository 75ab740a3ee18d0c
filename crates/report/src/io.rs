//! Writing and reading `tables/`: each [`Table`] as `<name>.csv` (csv crate) and
//! `<name>.parquet` (polars-io), the run's metadata as `meta.json`, and [`read_run_dir`] to
//! load the canonical tables of any run directory back into a [`RunData`].

use std::fs::File;
use std::path::{Path, PathBuf};

use polars::prelude::{Column, DataFrame, DataType};
use polars_io::SerReader;
use polars_io::parquet::read::ParquetReader;
use polars_io::parquet::write::{ParquetCompression, ParquetWriter};

use crate::error::ReportError;
use crate::table::{ColumnData, ColumnSpec, ColumnType, Table, TableRow};
use crate::tables::{
    GradeRow, RolloutRow, RunData, RunMeta, SelectionRow, SummaryRow, TimingRow, VoteRow,
};

/// The folder holding a run's tables.
pub const TABLES_DIR: &str = "tables";
/// The metadata file inside `tables/`.
pub const META_FILE: &str = "meta.json";
/// The small file importers write at the top of a run directory.
pub const RUN_JSON: &str = "run.json";

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Format {
    /// Comma-separated values with a header.
    Csv,
    /// Apache Parquet (zstd).
    Parquet,
    /// Markdown (the report's tables in one `report.md`).
    Markdown,
    /// One self-contained `report.html` with inline SVG plots.
    Html,
}

impl Format {
    /// Parse a comma-separated list (`csv,parquet,md,html`).
    pub fn parse_list(s: &str) -> Result<Vec<Format>, String> {
        let mut out = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let f = match part.to_ascii_lowercase().as_str() {
                "csv" => Format::Csv,
                "parquet" | "pq" => Format::Parquet,
                "md" | "markdown" => Format::Markdown,
                "html" => Format::Html,
                other => {
                    return Err(format!(
                        "unknown format {other:?}; use a comma-separated list of csv, parquet, md, html"
                    ));
                }
            };
            if !out.contains(&f) {
                out.push(f);
            }
        }
        if out.is_empty() {
            return Err("no format given; use csv, parquet, md or html".into());
        }
        Ok(out)
    }
}

/// A table as CSV text (header line first; empty cells for nulls).
pub fn csv_bytes(table: &Table) -> Result<Vec<u8>, String> {
    let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
    w.write_record(table.specs.iter().map(|s| s.name))
        .map_err(|e| e.to_string())?;
    for row in 0..table.len() {
        w.write_record(table.data.iter().map(|c| c.cell_text(row)))
            .map_err(|e| e.to_string())?;
    }
    w.into_inner().map_err(|e| e.to_string())
}

/// Write one table as CSV into `dir/<name>.csv` (atomically).
pub fn write_csv(dir: &Path, table: &Table) -> Result<PathBuf, ReportError> {
    let path = dir.join(format!("{}.csv", table.name));
    let bytes = csv_bytes(table).map_err(|message| ReportError::Csv {
        path: path.clone(),
        line: 0,
        message,
    })?;
    agentscale_core::fsutil::atomic_write(&path, &bytes).map_err(|e| ReportError::io(&path, e))?;
    Ok(path)
}

fn to_frame(table: &Table) -> Result<DataFrame, String> {
    let cols: Vec<Column> = table
        .specs
        .iter()
        .zip(&table.data)
        .map(|(s, d)| match d {
            ColumnData::Str(v) => Column::new(s.name.into(), v.as_slice()),
            ColumnData::Int(v) => Column::new(s.name.into(), v.as_slice()),
            ColumnData::Float(v) => Column::new(s.name.into(), v.as_slice()),
            ColumnData::Bool(v) => Column::new(s.name.into(), v.as_slice()),
        })
        .collect();
    DataFrame::new(table.len(), cols).map_err(|e| e.to_string())
}

/// Write one table as Parquet into `dir/<name>.parquet` (atomically, zstd).
pub fn write_parquet(dir: &Path, table: &Table) -> Result<PathBuf, ReportError> {
    let path = dir.join(format!("{}.parquet", table.name));
    let perr = |message: String| ReportError::Parquet {
        path: path.clone(),
        message,
    };
    let mut df = to_frame(table).map_err(perr)?;
    let mut buf = Vec::new();
    ParquetWriter::new(&mut buf)
        .with_compression(ParquetCompression::Zstd(None))
        .finish(&mut df)
        .map_err(|e| perr(e.to_string()))?;
    agentscale_core::fsutil::atomic_write(&path, &buf).map_err(|e| ReportError::io(&path, e))?;
    Ok(path)
}

/// Write a table in each of `formats` that is a table format (CSV, Parquet); returns the files.
pub fn write_table(
    dir: &Path,
    table: &Table,
    formats: &[Format],
) -> Result<Vec<PathBuf>, ReportError> {
    let mut out = Vec::new();
    for f in formats {
        match f {
            Format::Csv => out.push(write_csv(dir, table)?),
            Format::Parquet => out.push(write_parquet(dir, table)?),
            Format::Markdown | Format::Html => {}
        }
    }
    Ok(out)
}

fn frame_column(
    df: &DataFrame,
    spec: &ColumnSpec,
    path: &Path,
) -> Result<Option<ColumnData>, ReportError> {
    let Ok(col) = df.column(spec.name) else {
        return Ok(None);
    };
    let perr = |e: polars::prelude::PolarsError| ReportError::Parquet {
        path: path.to_path_buf(),
        message: format!("column `{}`: {e}", spec.name),
    };
    let s = col.as_materialized_series();
    Ok(Some(match spec.ty {
        ColumnType::String | ColumnType::StringList => {
            let c = s.cast(&DataType::String).map_err(perr)?;
            let ca = c.str().map_err(perr)?;
            ColumnData::Str(ca.iter().map(|x| x.map(str::to_string)).collect())
        }
        ColumnType::Integer => {
            let c = s.cast(&DataType::Int64).map_err(perr)?;
            ColumnData::Int(c.i64().map_err(perr)?.iter().collect())
        }
        ColumnType::Float => {
            let c = s.cast(&DataType::Float64).map_err(perr)?;
            ColumnData::Float(c.f64().map_err(perr)?.iter().collect())
        }
        ColumnType::Bool => {
            let c = s.cast(&DataType::Boolean).map_err(perr)?;
            ColumnData::Bool(c.bool().map_err(perr)?.iter().collect())
        }
    }))
}

/// Read `path` (a Parquet file) as a table with the given columns. Columns the file lacks are
/// left out (the row conversion then names the missing one); extra columns are ignored.
pub fn read_parquet(path: &Path, name: &str, specs: &[ColumnSpec]) -> Result<Table, ReportError> {
    let f = File::open(path).map_err(|e| ReportError::io(path, e))?;
    let df = ParquetReader::new(f)
        .finish()
        .map_err(|e| ReportError::Parquet {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
    let mut t = Table {
        name: name.to_string(),
        specs: Vec::new(),
        data: Vec::new(),
    };
    for spec in specs {
        if let Some(d) = frame_column(&df, spec, path)? {
            t.specs.push(*spec);
            t.data.push(d);
        }
    }
    Ok(t)
}

fn parse_cell(spec: &ColumnSpec, text: &str) -> Result<CellValue, String> {
    if text.is_empty() {
        // CSV cannot tell an empty text from a missing one: a required text column reads "".
        return Ok(if spec.ty == ColumnType::String && !spec.nullable {
            CellValue::Str(String::new())
        } else {
            CellValue::Null
        });
    }
    Ok(match spec.ty {
        ColumnType::String | ColumnType::StringList => CellValue::Str(text.to_string()),
        ColumnType::Integer => CellValue::Int(
            text.trim()
                .parse::<i64>()
                .map_err(|_| format!("{text:?} is not an integer"))?,
        ),
        ColumnType::Float => CellValue::Float(match text.trim() {
            "NaN" | "nan" => f64::NAN,
            "inf" => f64::INFINITY,
            "-inf" => f64::NEG_INFINITY,
            t => t
                .parse::<f64>()
                .map_err(|_| format!("{text:?} is not a number"))?,
        }),
        ColumnType::Bool => CellValue::Bool(match text.trim() {
            "true" | "True" | "TRUE" | "1" => true,
            "false" | "False" | "FALSE" | "0" => false,
            _ => return Err(format!("{text:?} is not true or false")),
        }),
    })
}

enum CellValue {
    Null,
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
}

fn push_cell(col: &mut ColumnData, v: CellValue) {
    match (col, v) {
        (ColumnData::Str(c), CellValue::Str(s)) => c.push(Some(s)),
        (ColumnData::Str(c), _) => c.push(None),
        (ColumnData::Int(c), CellValue::Int(x)) => c.push(Some(x)),
        (ColumnData::Int(c), _) => c.push(None),
        (ColumnData::Float(c), CellValue::Float(x)) => c.push(Some(x)),
        (ColumnData::Float(c), _) => c.push(None),
        (ColumnData::Bool(c), CellValue::Bool(x)) => c.push(Some(x)),
        (ColumnData::Bool(c), _) => c.push(None),
    }
}

/// Read `path` (a CSV file with a header) as a table with the given columns. Errors name the
/// file, the line and the column.
pub fn read_csv(path: &Path, name: &str, specs: &[ColumnSpec]) -> Result<Table, ReportError> {
    let f = File::open(path).map_err(|e| ReportError::io(path, e))?;
    let mut r = csv::ReaderBuilder::new().from_reader(f);
    let headers = r
        .headers()
        .map_err(|e| ReportError::Csv {
            path: path.to_path_buf(),
            line: 1,
            message: e.to_string(),
        })?
        .clone();
    let present: Vec<(ColumnSpec, usize)> = specs
        .iter()
        .filter_map(|s| headers.iter().position(|h| h == s.name).map(|i| (*s, i)))
        .collect();
    let mut data: Vec<ColumnData> = present
        .iter()
        .map(|(s, _)| ColumnData::new(s.ty, 0))
        .collect();
    for rec in r.records() {
        let rec = rec.map_err(|e| ReportError::Csv {
            path: path.to_path_buf(),
            line: e.position().map_or(0, csv::Position::line),
            message: e.to_string(),
        })?;
        let line = rec.position().map_or(0, csv::Position::line);
        for ((spec, idx), col) in present.iter().zip(data.iter_mut()) {
            let text = rec.get(*idx).unwrap_or("");
            let v = parse_cell(spec, text).map_err(|m| ReportError::Csv {
                path: path.to_path_buf(),
                line,
                message: format!("column `{}`: {m}", spec.name),
            })?;
            push_cell(col, v);
        }
    }
    Ok(Table {
        name: name.to_string(),
        specs: present.iter().map(|(s, _)| *s).collect(),
        data,
    })
}

/// Read the table `R` from `dir`: `<name>.parquet` when present, else `<name>.csv`; `None`
/// when neither exists.
pub fn read_rows<R: TableRow>(dir: &Path) -> Result<Option<Vec<R>>, ReportError> {
    let pq = dir.join(format!("{}.parquet", R::TABLE));
    let csv_path = dir.join(format!("{}.csv", R::TABLE));
    let (path, table) = if pq.is_file() {
        let t = read_parquet(&pq, R::TABLE, R::columns())?;
        (pq, t)
    } else if csv_path.is_file() {
        let t = read_csv(&csv_path, R::TABLE, R::columns())?;
        (csv_path, t)
    } else {
        return Ok(None);
    };
    R::from_table(&table)
        .map(Some)
        .map_err(|source| ReportError::Table { path, source })
}

/// Write the canonical tables of `data` (rollouts, summaries, votes, selections, grades,
/// timing) and `meta.json` into `tables_dir`, in the table formats among `formats`.
pub fn write_input_tables(
    tables_dir: &Path,
    data: &RunData,
    formats: &[Format],
) -> Result<Vec<PathBuf>, ReportError> {
    let mut files = Vec::new();
    for t in [
        RolloutRow::to_table(&data.rollouts),
        SummaryRow::to_table(&data.summaries),
        VoteRow::to_table(&data.votes),
        SelectionRow::to_table(&data.selections),
        GradeRow::to_table(&data.grades),
        TimingRow::to_table(&data.timing),
    ] {
        files.extend(write_table(tables_dir, &t, formats)?);
    }
    let meta = tables_dir.join(META_FILE);
    agentscale_core::fsutil::write_json_atomic(&meta, &data.meta)
        .map_err(|e| ReportError::io(&meta, e))?;
    files.push(meta);
    Ok(files)
}

fn read_meta(path: &Path) -> Result<RunMeta, ReportError> {
    let text = std::fs::read_to_string(path).map_err(|e| ReportError::io(path, e))?;
    serde_json::from_str(&text).map_err(|e| ReportError::Json {
        path: path.to_path_buf(),
        message: format!("not a run metadata file: {e}"),
    })
}

/// Load the canonical tables of a run directory (`DIR/tables/`, or `DIR` itself when it is
/// the tables folder). Metadata comes from `tables/meta.json`, else `DIR/run.json`, else is
/// made up from the folder's name. Missing tables are empty; at least rollouts or grades
/// must exist.
pub fn read_run_dir(dir: &Path) -> Result<RunData, ReportError> {
    if !dir.is_dir() {
        return Err(ReportError::NotARun {
            path: dir.to_path_buf(),
            message: "no such folder; give a run directory (with tables/) or an imported run (`agentscale import ... --output DIR`)".into(),
        });
    }
    let tables = if dir.join(TABLES_DIR).is_dir() {
        dir.join(TABLES_DIR)
    } else {
        dir.to_path_buf()
    };
    let meta = if tables.join(META_FILE).is_file() {
        read_meta(&tables.join(META_FILE))?
    } else if dir.join(RUN_JSON).is_file() {
        read_meta(&dir.join(RUN_JSON))?
    } else {
        RunMeta {
            run_id: dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            ..RunMeta::default()
        }
    };
    let rollouts = read_rows::<RolloutRow>(&tables)?;
    let grades = read_rows::<GradeRow>(&tables)?;
    if rollouts.is_none() && grades.is_none() {
        return Err(ReportError::NotARun {
            path: dir.to_path_buf(),
            message: format!(
                "no rollouts or grades table (looked for {}/rollouts.parquet|csv and grades.parquet|csv); \
                 is this a run directory? Import other tools' runs with `agentscale import`",
                tables.display()
            ),
        });
    }
    let mut data = RunData {
        meta,
        rollouts: rollouts.unwrap_or_default(),
        grades: grades.unwrap_or_default(),
        summaries: read_rows::<SummaryRow>(&tables)?.unwrap_or_default(),
        votes: read_rows::<VoteRow>(&tables)?.unwrap_or_default(),
        selections: read_rows::<SelectionRow>(&tables)?.unwrap_or_default(),
        timing: read_rows::<TimingRow>(&tables)?.unwrap_or_default(),
        texts: crate::tables::Texts::default(),
    };
    data.normalize();
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> RunData {
        let mut d = RunData::default();
        d.meta.run_id = "r".into();
        d.rollouts.push(RolloutRow {
            system: "s".into(),
            task_id: "a__b-1".into(),
            repo: Some("a/b".into()),
            rollout_id: "x,\"1\"".into(),
            steps: Some(3),
            cost_usd: Some(0.125),
            context: vec!["p;q".into()],
            ..RolloutRow::default()
        });
        d.grades.push(GradeRow {
            system: "s".into(),
            task_id: "a__b-1".into(),
            rollout_id: "x,\"1\"".into(),
            status: "resolved".into(),
            resolved: true,
            reward: Some(1.0),
            ..GradeRow::default()
        });
        d.normalize();
        d
    }

    #[test]
    fn formats_parse() {
        assert_eq!(
            Format::parse_list("csv, md,csv").unwrap(),
            vec![Format::Csv, Format::Markdown]
        );
        assert!(Format::parse_list("xls").unwrap_err().contains("xls"));
    }

    #[test]
    fn tables_round_trip_through_parquet_and_csv() {
        let d = sample();
        let tmp = tempfile::tempdir().unwrap();
        let t = tmp.path().join(TABLES_DIR);
        write_input_tables(&t, &d, &[Format::Parquet]).unwrap();
        assert_eq!(read_run_dir(tmp.path()).unwrap(), d);
        let tmp2 = tempfile::tempdir().unwrap();
        let t2 = tmp2.path().join(TABLES_DIR);
        write_input_tables(&t2, &d, &[Format::Csv]).unwrap();
        assert_eq!(read_run_dir(tmp2.path()).unwrap(), d);
    }

    #[test]
    fn bad_csv_cells_name_file_line_and_column() {
        let tmp = tempfile::tempdir().unwrap();
        let t = tmp.path().join(TABLES_DIR);
        std::fs::create_dir_all(&t).unwrap();
        std::fs::write(
            t.join("grades.csv"),
            "system,task_id,rollout_id,status,resolved,reward,infra,exception,message\n\
             s,t,r,resolved,true,,false,,\n\
             s,t2,r2,resolved,maybe,,false,,\n",
        )
        .unwrap();
        let e = read_run_dir(tmp.path()).unwrap_err().to_string();
        assert!(
            e.contains("grades.csv:3") && e.contains("`resolved`"),
            "{e}"
        );
    }

    #[test]
    fn a_folder_without_tables_is_explained() {
        let tmp = tempfile::tempdir().unwrap();
        let e = read_run_dir(tmp.path()).unwrap_err().to_string();
        assert!(e.contains("no rollouts or grades table"), "{e}");
        let e = read_run_dir(&tmp.path().join("nope"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("no such folder"), "{e}");
    }
}
