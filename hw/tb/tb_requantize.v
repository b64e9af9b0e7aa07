// tb_requantize: replays a `lpmc vectors requantize` directory on lpmc_requantize and
// compares every bit of out and overflow for every vector. Prints one summary line
// "<Dir>: <N> vectors, <M> mismatches" (and the first mismatches), then raises done_o.
/* verilator lint_off WIDTH */
/* verilator lint_off BLKSEQ */
/* verilator lint_off UNUSEDSIGNAL */
module tb_requantize #(
  parameter integer InWl  = 16,
  parameter integer InFl  = 8,
  parameter integer OutWl = 8,
  parameter integer OutFl = 4,
  parameter integer Mode  = 4,
  parameter integer R     = 8,
  parameter integer Wrap  = 0,
  parameter integer N     = 1,
  parameter Dir = "."
) (
  output reg        done_o,
  output reg [31:0] mismatches_o
);
  localparam integer Shift  = InFl - OutFl;
  localparam integer RBits  = (Mode == 5) ? ((Shift > 0) ? Shift : 0)
                            : ((Mode == 4 || Mode == 6) ? R : 0);
  localparam integer RandWl = (RBits > 0) ? RBits : 1;

  reg [InWl-1:0]   in_m   [0:N-1];
  reg [RandWl-1:0] bits_m [0:N-1];
  reg [OutWl-1:0]  out_m  [0:N-1];
  reg              ov_m   [0:N-1];

  reg  [InWl-1:0]   in_r;
  reg  [RandWl-1:0] bits_r;
  wire [OutWl-1:0]  out_w;
  wire              ov_w;

  lpmc_requantize #(
    .InWl(InWl), .InFl(InFl), .OutWl(OutWl), .OutFl(OutFl),
    .Mode(Mode), .R(R), .Wrap(Wrap)
  ) dut (
    .in_i(in_r), .rand_i(bits_r), .out_o(out_w), .overflow_o(ov_w)
  );

  integer i;
  initial begin
    done_o = 1'b0;
    mismatches_o = 0;
    $readmemh({Dir, "/in.hex"}, in_m);
    $readmemh({Dir, "/bits.hex"}, bits_m);
    $readmemh({Dir, "/out.hex"}, out_m);
    $readmemh({Dir, "/overflow.hex"}, ov_m);
    for (i = 0; i < N; i = i + 1) begin
      in_r = in_m[i];
      bits_r = bits_m[i];
      #1;
      if (out_w !== out_m[i] || ov_w !== ov_m[i]) begin
        mismatches_o = mismatches_o + 1;
        if (mismatches_o <= 3)
          $display("%0s: vector %0d: in %h bits %h -> out %h overflow %b, expected %h %b",
                   Dir, i, in_r, bits_r, out_w, ov_w, out_m[i], ov_m[i]);
      end
    end
    $display("%0s: %0d vectors, %0d mismatches", Dir, N, mismatches_o);
    done_o = 1'b1;
  end
endmodule
