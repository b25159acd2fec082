//! The comment `-w` writes on each packet of a pcapng (Wireshark's `frame.comment`): the file
//! and frame it came from, so a frame number in rdpscope's output stays findable in the
//! written file, and on the evidence frames the finding codes they prove.

use crate::capture::writer::PacketOrigin;
use crate::diagnose::{Diagnosed, FindingCode};

/// Most evidence frames noted per connection (a finding lists a few; the bound keeps a
/// pathological connection from growing the list).
const MAX_MARKS: usize = 256;

/// The evidence frames of one connection with their finding codes, sorted by frame.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EvidenceMarks {
    /// The input file of the connection when all its packets are in one file; evidence frame
    /// numbers are numbers within a file, so with a connection split across files a number
    /// is matched in each of them.
    file: Option<usize>,
    marks: Vec<(u64, FindingCode)>,
}

impl EvidenceMarks {
    /// The evidence frames of `d`'s findings (each code once per frame).
    pub fn of(d: &Diagnosed) -> Self {
        let mut marks: Vec<(u64, FindingCode)> = d
            .findings
            .iter()
            .flat_map(|f| f.evidence.iter().map(move |e| (e.frame, f.code)))
            .filter(|(frame, _)| *frame > 0)
            .collect();
        marks.sort_by_key(|(frame, code)| (*frame, code.as_str()));
        marks.dedup();
        marks.truncate(MAX_MARKS);
        let file = (d.meta.first.file == d.meta.last.file).then_some(d.meta.first.file);
        EvidenceMarks { file, marks }
    }

    /// The codes proved by `frame` of `file`.
    fn codes_at(&self, file: usize, frame: u64) -> impl Iterator<Item = FindingCode> + '_ {
        let here = self.file.is_none_or(|f| f == file);
        let start = self.marks.partition_point(|(f, _)| *f < frame);
        self.marks
            .get(start..)
            .unwrap_or(&[])
            .iter()
            .take_while(move |(f, _)| here && *f == frame)
            .map(|(_, code)| *code)
    }
}

/// Makes the comments for a `-w` run: `paths` are the inputs (as given), `marks` the evidence
/// of each written connection, in the order of the spans given to the writer.
pub struct FrameComments<'a> {
    pub paths: &'a [String],
    pub marks: &'a [EvidenceMarks],
}

impl FrameComments<'_> {
    /// "demo.pcap frame 12" and, on an evidence frame, "; evidence of nla-failed".
    pub fn comment(&self, origin: &PacketOrigin) -> Option<String> {
        let path = self.paths.get(origin.file).map_or("?", String::as_str);
        let mut text = format!("rdpscope: {path} frame {}", origin.frame);
        if let Some(marks) = self.marks.get(origin.connection) {
            let codes: Vec<&str> = marks
                .codes_at(origin.file, origin.frame)
                .map(FindingCode::as_str)
                .collect();
            if !codes.is_empty() {
                text.push_str("; evidence of ");
                text.push_str(&codes.join(", "));
            }
        }
        Some(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::Verdict;
    use crate::report::test_support::{diagnosed, nla_finding};

    #[test]
    fn evidence_frames_carry_their_codes_once_and_other_frames_only_their_origin() {
        let finding = nla_finding();
        let frames: Vec<u64> = finding.evidence.iter().map(|e| e.frame).collect();
        let d = diagnosed(&[], 100.0, Verdict::Failed, vec![finding.clone(), finding]);
        let marks = [EvidenceMarks::of(&d)];
        let paths = ["a.pcap".to_string()];
        let comments = FrameComments {
            paths: &paths,
            marks: &marks,
        };
        let at = |frame| {
            comments
                .comment(&PacketOrigin {
                    connection: 0,
                    file: 0,
                    frame,
                })
                .unwrap()
        };
        let first = frames[0];
        assert_eq!(
            at(first),
            format!("rdpscope: a.pcap frame {first}; evidence of nla-failed")
        );
        let other = frames.iter().max().unwrap() + 1;
        assert_eq!(at(other), format!("rdpscope: a.pcap frame {other}"));
    }
}
