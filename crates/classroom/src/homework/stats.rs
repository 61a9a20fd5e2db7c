//! Figures of one homework (handed in, not yet, late, the score distribution and average) and of
//! one student over the term.

use super::store::{Assigned, Work};

/// One column of the score distribution chart.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Band {
    pub label: String,
    pub count: usize,
    /// Column height in chart units (0–100) and its left edge.
    pub height: f64,
    pub x: f64,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct HomeworkStats {
    pub recipients: usize,
    pub handed_in: usize,
    pub not_yet: usize,
    pub late: usize,
    pub marked: usize,
    pub average: Option<f64>,
    pub full_marks: f64,
    pub bands: Vec<Band>,
}

impl HomeworkStats {
    pub fn of(works: &[Work]) -> HomeworkStats {
        let scores: Vec<f64> = works.iter().filter(|w| w.status.as_deref() == Some("marked")).filter_map(|w| w.score).collect();
        let max = scores.iter().copied().fold(0.0, f64::max);
        // Out of 100 unless the marks say otherwise (a 120- or 150-point paper).
        let full_marks = if max <= 100.0 { 100.0 } else { (max / 10.0).ceil() * 10.0 };
        let edges = [0.0, 0.6, 0.7, 0.8, 0.9];
        let mut counts = [0usize; 5];
        for s in &scores {
            let share = s / full_marks;
            let band = edges.iter().rposition(|e| share >= *e).unwrap_or(0);
            counts[band] += 1;
        }
        let tallest = counts.iter().copied().max().unwrap_or(0).max(1) as f64;
        let bands = counts
            .iter()
            .enumerate()
            .map(|(i, &count)| {
                let lo = (edges[i] * full_marks).round();
                let hi = edges.get(i + 1).map(|e| (e * full_marks).round() - 1.0).unwrap_or(full_marks);
                Band { label: format!("{lo}–{hi}"), count, height: count as f64 / tallest * 100.0, x: 40.0 + i as f64 * 110.0 }
            })
            .collect();
        let handed_in = works.iter().filter(|w| w.handed_in()).count();
        HomeworkStats {
            recipients: works.len(),
            handed_in,
            not_yet: works.len() - handed_in,
            late: works.iter().filter(|w| w.is_late()).count(),
            marked: works.iter().filter(|w| w.status.as_deref() == Some("marked")).count(),
            average: (!scores.is_empty()).then(|| (scores.iter().sum::<f64>() / scores.len() as f64 * 10.0).round() / 10.0),
            full_marks,
            bands,
        }
    }
}

/// A student's term: how much homework, handed in, on time, and the average mark handed back.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StudentTerm {
    pub assigned: usize,
    pub handed_in: usize,
    pub late: usize,
    pub missing: usize,
    pub average: Option<f64>,
}

impl StudentTerm {
    pub fn of(items: &[Assigned], now: i64) -> StudentTerm {
        let online: Vec<&Assigned> = items.iter().filter(|a| a.hand_in == "online").collect();
        let scores: Vec<f64> = items.iter().filter_map(|a| a.score).collect();
        StudentTerm {
            assigned: items.len(),
            handed_in: online.iter().filter(|a| a.handed_in_at.is_some()).count(),
            late: online.iter().filter(|a| a.late.unwrap_or(false)).count(),
            missing: online.iter().filter(|a| a.handed_in_at.is_none() && a.due_at < now).count(),
            average: (!scores.is_empty()).then(|| (scores.iter().sum::<f64>() / scores.len() as f64 * 10.0).round() / 10.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn work(score: Option<f64>, handed_in: bool, late: bool) -> Work {
        Work {
            homework_id: 1,
            student_id: 1,
            student_name: "x".into(),
            class_id: 1,
            reminded_at: None,
            submission_id: handed_in.then_some(1),
            status: if score.is_some() {
                Some("marked".into())
            } else if handed_in {
                Some("handed_in".into())
            } else {
                None
            },
            body: None,
            late: Some(late),
            attempts: Some(1),
            handed_in_at: handed_in.then_some(100),
            score,
            grade: None,
            feedback: None,
            marked_at: None,
            returned_at: None,
            idempotency_key: None,
        }
    }

    #[test]
    fn counts_average_and_bands() {
        let works = [
            work(Some(95.0), true, false),
            work(Some(58.0), true, true),
            work(Some(85.0), true, false),
            work(None, false, false),
        ];
        let s = HomeworkStats::of(&works);
        assert_eq!((s.recipients, s.handed_in, s.not_yet, s.late, s.marked), (4, 3, 1, 1, 3));
        assert_eq!(s.average, Some(79.3));
        let counts: Vec<usize> = s.bands.iter().map(|b| b.count).collect();
        assert_eq!(counts, vec![1, 0, 0, 1, 1]);
        assert_eq!(s.bands[4].label, "90–100");
        assert_eq!(s.bands[0].height, 100.0);
    }

    #[test]
    fn scales_to_papers_out_of_more_than_100() {
        let s = HomeworkStats::of(&[work(Some(140.0), true, false), work(Some(80.0), true, false)]);
        assert_eq!(s.full_marks, 140.0);
        assert_eq!(s.bands[0].count, 1, "80 of 140 is under 60 %");
        assert_eq!(s.bands[4].count, 1);
    }
}
